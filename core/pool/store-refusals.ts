/**
 * Store writes refused for their size (`CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE`, `…_VALUE_TOO_LARGE`):
 * thrown to the hook, which may catch them and leave no trace, so an operator could not see that a
 * plugin's state is being refused. Each worker tallies every refusal by plugin and code
 * ({@link RefusalTally}) and hands the tally over with its task's replies, or, counted outside a
 * task (a timer's write), on a port of the worker's own ({@link StoreRefusals.listen}); the main
 * thread counts it in `relay_plugin_store_refusals_total{plugin,code}` and logs it at a bounded
 * rate ({@link StoreRefusals}). Not the worker's `parentPort`: only core code in the worker returns
 * a reply or holds that port, so a plugin cannot post a refusal under another plugin's name, and
 * the tally is keyed by the store view's namespace, which the core gives each plugin
 * (docs/decisions.md).
 */
import type { MessagePort } from 'node:worker_threads';
import { scrubUrls } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import { ThrottledReport, ThrottledReports } from '../log/throttled-report.js';
import type { Metrics } from '../metrics/metrics.js';
import { isRefusalCode, REFUSAL_CODES, type RefusalCode } from '../store/store-limits.js';
import { monotonicMs } from './progress-slots.js';
import type { StoreRefusal, TaskReply } from './task-protocol.js';

/** Longest refusal message carried and logged, characters (it names the key's start). */
const MAX_REASON = 300;
/** Least time between two log lines about one plugin's refusals of one code, ms. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;
/** Most entries taken from one tally sent on a worker's port (one per plugin and code). */
const MAX_TALLY = 1_000;
/** The label of a name no configured plugin has (none can hold parentheses). */
const OTHER = '(other)';

/** A worker's refusals since its last reply. */
export class RefusalTally {
  private readonly tally = new Map<
    string,
    { plugin: string; code: RefusalCode; count: number; reason: string }
  >();

  /** One refused write of `plugin`'s store. */
  add(plugin: string, code: RefusalCode, reason: string): void {
    const id = `${plugin}\n${code}`;
    const seen = this.tally.get(id);
    const shown = reason.slice(0, MAX_REASON);
    if (seen) {
      seen.count++;
      seen.reason = shown;
    } else this.tally.set(id, { plugin, code, count: 1, reason: shown });
  }

  /** The tally since the last call, or undefined when nothing was refused; starts a new one. */
  drain(): StoreRefusal[] | undefined {
    if (this.tally.size === 0) return undefined;
    const all = [...this.tally.values()];
    this.tally.clear();
    return all;
  }
}

/** Construction options of {@link StoreRefusals}. */
export interface StoreRefusalsOptions {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The configured plugins' names: the only `plugin` labels (anything else is `(other)`). */
  readonly plugins: readonly string[];
  /** The monotonic clock, ms; default {@link monotonicMs}. */
  readonly now?: () => number;
}

/** The main thread's side: counts and logs the refusals the workers' replies carry. */
export class StoreRefusals {
  private readonly names: ReadonlySet<string>;
  /** Per code, one report per plugin. */
  private readonly reports = new Map(
    REFUSAL_CODES.map((code) => [
      code,
      new ThrottledReports<string>((plugin) => this.throttled(plugin, code)),
    ]),
  );
  private closed = false;

  constructor(private readonly options: StoreRefusalsOptions) {
    this.names = new Set(options.plugins);
  }

  /** Take the refusals carried by a task's replies. */
  receive(replies: readonly TaskReply[]): void {
    if (this.closed) return;
    // on every task's replies, on the main thread: nothing allocated when nothing was refused
    for (const reply of replies) if (reply.refused) for (const refusal of reply.refused) this.take(refusal);
  }

  /**
   * Take the refusals a worker sends on its own port (those counted outside a batch); the port is
   * core code's alone (worker-runtime.ts), handed over with the worker's keyed boot note.
   */
  listen(port: MessagePort): void {
    port.on('message', (tally: unknown) => {
      if (this.closed || !Array.isArray(tally)) return;
      for (const refusal of tally.slice(0, MAX_TALLY)) {
        if (typeof refusal === 'object' && refusal !== null) this.take(refusal as StoreRefusal);
      }
    });
    // a worker's port must not keep the process up; it closes with the worker
    port.unref();
  }

  /** Log what is still unlogged now, and stop. */
  close(): void {
    for (const reports of this.reports.values()) reports.close();
    this.closed = true;
  }

  private take({ plugin: named, code, count, reason }: StoreRefusal): void {
    if (!isRefusalCode(code) || !Number.isSafeInteger(count) || count < 1) return;
    const plugin = this.names.has(named) ? named : OTHER;
    this.options.metrics.pluginStoreRefusals.inc({ plugin, code }, count);
    // a key may hold a URL with a credential in it, as an error's text may
    this.reports.get(code)?.add(plugin, scrubUrls(String(reason).slice(0, MAX_REASON)), count);
  }

  /** One plugin's lines of one code: the first refusal at once, then a summary at most a minute. */
  private throttled(plugin: string, code: RefusalCode): ThrottledReport<string> {
    const { log, metrics } = this.options;
    return new ThrottledReport<string>({
      intervalMs: REFUSAL_LOG_INTERVAL_MS,
      now: this.options.now ?? monotonicMs,
      first: (reason) => reportError(log, metrics, code, 'plugin store write refused', { plugin, reason }),
      repeated: (count, reason) =>
        reportError(log, metrics, code, 'plugin store writes refused', { plugin, count, reason }),
    });
  }
}
