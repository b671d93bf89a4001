/**
 * The pool worker's side of stray errors (stray-errors.ts): an exception or unhandled rejection
 * that reaches the top of a worker no longer ends it. Ending it was a crash loop: a module whose
 * top-level timer throws killed every worker shortly after it imported it, piscina started a
 * replacement (`pool.minThreads`) that imported it again, and every task running there failed.
 * The error is the plugin's: it is blamed on the plugin whose module the stack names and reported
 * to the main thread, which logs and counts it (stray-log.ts). A task running meanwhile goes on:
 * the error is not part of its promise chain.
 */
import { parentPort } from 'node:worker_threads';
import type { SecretMatcher } from '../secret-matcher.js';
import { ExitAttempt, ExitTrap } from './exit-trap.js';
import {
  type StrayOrigin,
  type StrayReport,
  strayPlugin,
  strayReason,
  UNKNOWN_PLUGIN,
} from './stray-errors.js';
import type { WorkerPluginRef } from './task-protocol.js';

/**
 * How often a worker reports a plugin's further stray errors, ms: the first is reported at once,
 * the rest as one count per plugin per interval, so an interval that throws every millisecond
 * costs the main thread one message a second, not a thousand.
 */
export const STRAY_REPORT_INTERVAL_MS = 1_000;

interface Pending {
  count: number;
  reason: string;
  origin: StrayOrigin;
}

/** Per-plugin counts of one worker's stray errors, posted as {@link StrayReport}s. */
export class StrayTally {
  private readonly reported = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly post: (report: StrayReport) => void,
    private readonly intervalMs = STRAY_REPORT_INTERVAL_MS,
  ) {}

  /** Count one stray error of `plugin`: reported now if it is the plugin's first, else soon. */
  add(plugin: string, reason: string, origin: StrayOrigin): void {
    if (!this.reported.has(plugin)) {
      this.reported.add(plugin);
      this.post({ k: 'relay-stray-error', plugin, count: 1, reason, origin });
      return;
    }
    const pending = this.pending.get(plugin);
    if (pending) {
      pending.count++;
      pending.reason = reason;
      pending.origin = origin;
    } else {
      this.pending.set(plugin, { count: 1, reason, origin });
    }
    // unref'd: a tally never keeps a worker alive; piscina decides when it ends
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs).unref();
  }

  /** Post the counts not yet reported. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [plugin, p] of this.pending) {
      this.post({ k: 'relay-stray-error', plugin, count: p.count, reason: p.reason, origin: p.origin });
    }
    this.pending.clear();
  }
}

let installed: ExitTrap | undefined;

/**
 * Catch this worker's stray errors from now on, blaming them on `plugins` by stack frame, their
 * reasons without the credentials `secrets` gives (the worker's recent tasks': recent-secrets.ts),
 * and turn a plugin's `process.exit` into a throw (exit-trap.ts); the returned trap is told when a
 * batch item runs. Called by the worker entry before any plugin module is imported. The worker's
 * own failures still end it: out of memory is not an exception, and a task that a stray error
 * left unsettled is cut by the main thread's watchdog, which terminates the worker.
 */
export function installStrayTrap(
  plugins: readonly WorkerPluginRef[],
  secrets?: () => SecretMatcher,
): ExitTrap {
  if (installed) return installed;
  const urls = plugins.map((p) => p.url);
  const tally = new StrayTally((report) => parentPort?.postMessage(report));
  const onStray = (err: unknown, origin: StrayOrigin) => {
    // a throw in here would be fatal again: nothing may escape
    try {
      // an exit attempt made while no item ran was reported as it was made
      if (err instanceof ExitAttempt && exits.strayed(err)) return;
      const index = strayPlugin(err, urls);
      const name = index === undefined ? UNKNOWN_PLUGIN : (plugins[index]?.name ?? UNKNOWN_PLUGIN);
      tally.add(name, err instanceof ExitAttempt ? err.message : strayReason(err, secrets?.()), origin);
    } catch {
      // the report is lost, the worker is not
    }
  };
  const exits = new ExitTrap((err) => onStray(err, 'exception'));
  exits.install();
  installed = exits;
  // with a listener, node's default `--unhandled-rejections=throw` emits the event instead of
  // throwing; under `strict` the rejection is thrown and lands in the exception listener
  process.on('uncaughtException', (err) => onStray(err, 'exception'));
  process.on('unhandledRejection', (reason) => onStray(reason, 'rejection'));
  return exits;
}
