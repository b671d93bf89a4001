/**
 * Ingest backpressure with hysteresis: "pause" when the frames in the pipeline reach the limit,
 * "resume" once they are down to half, so socket reading does not flap at the boundary. Frames
 * the socket had already read still arrive while paused and are all taken (a live one is never
 * redelivered); running past twice the limit is reported once, until the level is under the
 * limit again.
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';

/** Tracks the pipeline fill level and tells listeners when to pause and resume. */
export class Backpressure {
  private paused = false;
  /** Past twice the limit, reported (`CORE_ERR_INBOX_OVERLOADED`) and not yet back under it. */
  private overrun = false;
  private readonly listeners: ((paused: boolean) => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {}

  /** True while reading should be paused. */
  get active(): boolean {
    return this.paused;
  }

  /** Add a listener: `true` = pause reading, `false` = resume. */
  onChange(listener: (paused: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Report the current number of frames in the pipeline. */
  update(pending: number): void {
    if (this.overrun) this.overrun = pending >= this.limit;
    else if (pending >= this.limit * 2) {
      this.overrun = true;
      const msg = 'ingest pipeline past twice its limit; frames already read are still taken';
      reportError(this.log, this.metrics, 'CORE_ERR_INBOX_OVERLOADED', msg, { pending, limit: this.limit });
    }
    const next = this.paused ? pending > Math.floor(this.limit / 2) : pending >= this.limit;
    if (next === this.paused) return;
    this.paused = next;
    this.log.info({ pending, paused: next }, next ? 'ingest backpressure on' : 'ingest backpressure off');
    for (const listener of this.listeners) {
      try {
        listener(next);
      } catch (err) {
        const fields = { step: 'backpressure listener', error: errorMessage(err) };
        reportError(
          this.log,
          undefined,
          'CORE_ERR_INTERNAL_THREW',
          'backpressure listener threw',
          fields,
          'error',
        );
      }
    }
  }
}
