/**
 * The main thread's side of stray errors (stray-errors.ts): each worker's reports are counted in
 * `relay_plugin_stray_errors_total{plugin}` as they come, and logged with a stable code — a
 * plugin's first at once, its further ones as one summary line (how many, the latest reason) at
 * most every {@link STRAY_LOG_INTERVAL_MS}, so an interval throwing every millisecond in every
 * worker cannot flood the log.
 */
import { scrubUrls } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import { ThrottledReport, ThrottledReports } from '../log/throttled-report.js';
import type { Metrics } from '../metrics/metrics.js';
import { monotonicMs } from './progress-slots.js';
import { isStrayReport, MAX_STRAY_REASON, type StrayOrigin, UNKNOWN_PLUGIN } from './stray-errors.js';

/** Least time between two log lines about one plugin's stray errors, ms. */
export const STRAY_LOG_INTERVAL_MS = 60_000;

/** The latest stray error of a plugin, as a log line shows it. */
interface Latest {
  readonly reason: string;
  readonly origin: StrayOrigin;
}

/** Construction options of {@link StrayLog}. */
export interface StrayLogOptions {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The configured plugins' names: any other label a report carries counts as `unknown`. */
  readonly plugins: readonly string[];
  /** Least time between two lines about one plugin, ms; default {@link STRAY_LOG_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** The monotonic clock, ms; default {@link monotonicMs}. Tests inject a stepped one. */
  readonly now?: () => number;
}

/** Counts and logs the pool workers' stray error reports. */
export class StrayLog {
  private readonly names: ReadonlySet<string>;
  private readonly reports = new ThrottledReports<Latest>((plugin) => this.throttled(plugin));
  private readonly intervalMs: number;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: StrayLogOptions) {
    this.names = new Set(options.plugins);
    this.intervalMs = options.intervalMs ?? STRAY_LOG_INTERVAL_MS;
    this.now = options.now ?? monotonicMs;
  }

  /**
   * Take one message of a worker. Anything but a well-formed report is ignored: plugin code can
   * post on the same port. A plugin can only ever report under a configured name, at the same
   * bounded log rate, which its own stray errors could do anyway.
   */
  receive(message: unknown): void {
    if (this.closed || !isStrayReport(message)) return;
    const plugin = this.names.has(message.plugin) ? message.plugin : UNKNOWN_PLUGIN;
    this.options.metrics.pluginStrayErrors.inc({ plugin }, message.count);
    // a forged report's reason is bounded and scrubbed as a worker's own is (stray-trap.ts)
    const reason = scrubUrls(message.reason.slice(0, MAX_STRAY_REASON)).slice(0, MAX_STRAY_REASON);
    this.reports.add(plugin, { reason, origin: message.origin }, message.count);
  }

  /** Log what is still unlogged now, and stop (the pool closed). */
  close(): void {
    this.reports.close();
    this.closed = true;
  }

  /** One plugin's lines: its first stray error at once, then a summary at most every interval. */
  private throttled(plugin: string): ThrottledReport<Latest> {
    const { log, metrics } = this.options;
    const code = 'CORE_ERR_PLUGIN_STRAY_ERROR';
    return new ThrottledReport<Latest>({
      intervalMs: this.intervalMs,
      now: this.now,
      first: (latest) =>
        reportError(log, metrics, code, 'plugin stray error', { plugin, ...latest }, 'error'),
      repeated: (count, latest) =>
        reportError(log, metrics, code, 'plugin stray errors repeated', { plugin, count, ...latest }),
    });
  }
}
