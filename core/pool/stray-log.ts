/**
 * The main thread's side of stray errors (stray-errors.ts): each worker's reports are counted in
 * `relay_plugin_stray_errors_total{plugin}` as they come, and logged with a stable code — a
 * plugin's first at once, its further ones as one summary line (how many, the latest reason) at
 * most every {@link STRAY_LOG_INTERVAL_MS}, so an interval throwing every millisecond in every
 * worker cannot flood the log.
 */
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import { monotonicMs } from './progress-slots.js';
import { isStrayReport, type StrayOrigin, UNKNOWN_PLUGIN } from './stray-errors.js';

/** Least time between two log lines about one plugin's stray errors, ms. */
export const STRAY_LOG_INTERVAL_MS = 60_000;

interface PluginState {
  /** When its last line was logged ({@link StrayLogOptions.now}). */
  loggedAt: number;
  /** Stray errors reported since that line. */
  unlogged: number;
  reason: string;
  origin: StrayOrigin;
  timer: NodeJS.Timeout | undefined;
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
  private readonly state = new Map<string, PluginState>();
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
    const state = this.state.get(plugin);
    if (!state) {
      this.state.set(plugin, {
        loggedAt: this.now(),
        unlogged: 0,
        reason: message.reason,
        origin: message.origin,
        timer: undefined,
      });
      const fields = { plugin, origin: message.origin, reason: message.reason };
      reportError(
        this.options.log,
        this.options.metrics,
        'CORE_ERR_PLUGIN_STRAY_ERROR',
        'plugin stray error',
        fields,
        'error',
      );
      return;
    }
    state.unlogged += message.count;
    state.reason = message.reason;
    state.origin = message.origin;
    const wait = state.loggedAt + this.intervalMs - this.now();
    if (wait <= 0) this.summarise(plugin, state);
    // the summary is due even if no report comes after this one
    else state.timer ??= setTimeout(() => this.summarise(plugin, state), wait).unref();
  }

  /** Log what is still unlogged now, and stop (the pool closed). */
  close(): void {
    for (const [plugin, state] of this.state) this.summarise(plugin, state);
    this.closed = true;
  }

  private summarise(plugin: string, state: PluginState): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    if (state.unlogged === 0) return;
    const fields = { plugin, count: state.unlogged, origin: state.origin, reason: state.reason };
    state.loggedAt = this.now();
    state.unlogged = 0;
    reportError(
      this.options.log,
      this.options.metrics,
      'CORE_ERR_PLUGIN_STRAY_ERROR',
      'plugin stray errors repeated',
      fields,
    );
  }
}
