/**
 * A pool worker's boot: importing every plugin (worker-runtime.ts `preload`). The worker says when
 * it is over ({@link BootNote}); the main thread reports a worker that died before (its tasks never
 * started: `CORE_ERR_PLUGIN_WORKER_BOOT_FAILED`) and a plugin that failed to import there though it
 * passed the start (a file since removed, something only the first worker had), each at a bounded
 * rate (docs/decisions.md, "Worker deaths").
 */
import { randomBytes } from 'node:crypto';
import type { MessagePort } from 'node:worker_threads';
import { scrubUrls } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import { ThrottledReport, ThrottledReports } from '../log/throttled-report.js';
import type { Metrics } from '../metrics/metrics.js';

/** The kind of a {@link BootNote}. */
export const BOOT_NOTE = 'relay-worker-booted';

/**
 * This thread's key of boot notes: the pool hands the main thread's to its workers
 * (`PoolWorkerData.bootKey`), each takes it out of its `workerData` before any plugin module loads
 * and puts it in its note, and a note without it is ignored. Plugin code posts on the same port: a
 * note it forged blamed another plugin's import, and, read first, stood in for the worker's own
 * (whose import failures then went unreported).
 */
export const BOOT_KEY = randomBytes(16).toString('hex');

/**
 * What a worker posts once every plugin's import has settled: its boot is over. `failed` names the
 * plugins whose import failed there, with why (their hooks fail `CORE_ERR_PLUGIN_LOAD_FAILED`).
 */
export interface BootNote {
  readonly k: typeof BOOT_NOTE;
  /** The pool's {@link BOOT_KEY}, as the worker got it. */
  readonly key: string;
  readonly failed: readonly { readonly name: string; readonly reason: string }[];
  /** The worker's port for store refusals counted outside a batch (store-refusals.ts). */
  readonly refusals?: MessagePort;
}

/** A worker's death as its log line shows it (during boot here, outside a task in worker-deaths.ts). */
export type Death = { readonly reason: string; readonly lifeMs: number };

/** Least time between two lines of one kind (a death, one plugin's import), ms. */
const BOOT_LOG_INTERVAL_MS = 60_000;
/** Longest import failure reason logged, characters. */
const MAX_REASON = 300;

/** What to do about workers dying while they import the plugins. */
const DEATH_ACTION =
  'a plugin module kills the worker that imports it (out of memory at its top level, or it depends on ' +
  'something the first worker had: a file since removed, the thread it runs in); its tasks are retried, ' +
  'then quarantined: if reason says memory and a plugin needs it, raise pool.maxOldGenerationSizeMb; else ' +
  'set "enabled": false on that plugin, else on the one added or changed most recently, in plugins.json ' +
  'and restart, then report it to its author';

/** What to do about a plugin that fails to import in a worker after the start. */
const IMPORT_ACTION =
  'the plugin loaded at start but not in this new worker (a file it needs was removed or changed, or it ' +
  'depends on the thread it runs in): its hooks fail there and its events are retried, then quarantined; ' +
  'restore its files, or set "enabled": false on it in plugins.json and restart, and report it to its author';

/** Construction options of {@link BootReport}. */
export interface BootReportOptions {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The configured plugins' names (a note naming another is ignored). */
  readonly plugins: readonly string[];
  /** The monotonic clock, ms. */
  readonly now: () => number;
}

/** Logs boot deaths and import failures, each first at once, then a summary at most a minute. */
export class BootReport {
  private readonly deaths: ThrottledReport<Death>;
  private readonly imports = new ThrottledReports<string>((plugin) => this.importReport(plugin));
  private readonly names: ReadonlySet<string>;

  constructor(private readonly options: BootReportOptions) {
    const { log, metrics, plugins, now } = options;
    this.names = new Set(plugins);
    const code = 'CORE_ERR_PLUGIN_WORKER_BOOT_FAILED';
    this.deaths = new ThrottledReport({
      intervalMs: BOOT_LOG_INTERVAL_MS,
      now,
      first: (death) =>
        reportError(
          log,
          metrics,
          code,
          'plugin worker died while importing the plugins',
          {
            ...death,
            plugins,
            action: DEATH_ACTION,
          },
          'error',
        ),
      repeated: (count, { reason }) =>
        reportError(
          log,
          metrics,
          code,
          'plugin workers died while importing the plugins',
          { count, reason },
          'error',
        ),
    });
  }

  /** A worker died before its boot note. */
  died(death: Death): void {
    this.deaths.add(death);
  }

  /**
   * Take a worker's boot note (its key checked by the caller): the plugins it could not import,
   * only configured ones, at a bounded rate, with a bounded, scrubbed reason.
   */
  noted(note: Partial<BootNote>): void {
    if (!Array.isArray(note.failed)) return;
    for (const failed of note.failed.slice(0, this.names.size)) {
      const { name, reason } = (failed ?? {}) as Partial<BootNote['failed'][number]>;
      if (typeof name !== 'string' || !this.names.has(name)) continue;
      this.imports.add(name, scrubUrls(String(reason).slice(0, MAX_REASON)));
    }
  }

  /** Log what is still unlogged, and stop. */
  close(): void {
    this.deaths.close();
    this.imports.close();
  }

  private importReport(plugin: string): ThrottledReport<string> {
    const { log, metrics, now } = this.options;
    const code = 'CORE_ERR_PLUGIN_LOAD_FAILED';
    return new ThrottledReport<string>({
      intervalMs: BOOT_LOG_INTERVAL_MS,
      now,
      first: (reason) =>
        reportError(
          log,
          metrics,
          code,
          'plugin failed to import in a pool worker',
          {
            plugin,
            reason,
            action: IMPORT_ACTION,
          },
          'error',
        ),
      repeated: (count, reason) =>
        reportError(
          log,
          metrics,
          code,
          'plugin failed to import in pool workers',
          { plugin, count, reason },
          'error',
        ),
    });
  }
}
