/**
 * The connector's `interrupt_inbound` frames, committed at once (outside the frame order, ahead
 * of the session's queued messages) and, when the store refuses them as unavailable (a full
 * disk, an I/O error), held and committed again in order as held frames are
 * ({@link HeldCommits}): a live interrupt refused used to be logged and dropped, lost.
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { IncomingOf } from '../../core/protocol/frames.js';
import { isStoreUnavailable } from '../../core/store/database.js';
import { HeldCommits, type Refused } from './held-commits.js';

/** A connector's `interrupt_inbound`. */
export type InterruptFrame = IncomingOf<'interrupt_inbound'>;

/** What committing interrupts needs. */
export interface HeldInterruptsDeps {
  /** Commit one interrupt; throws what the store threw. */
  readonly commit: (frame: InterruptFrame) => void;
  readonly now: () => number;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The number held changed: the caller updates its backpressure. */
  readonly onChange: () => void;
}

/** Interrupts committed at once, or held behind those the store refused. */
export class HeldInterrupts {
  private readonly held: HeldCommits<InterruptFrame>;

  constructor(private readonly deps: HeldInterruptsDeps) {
    this.held = new HeldCommits<InterruptFrame>({
      kind: 'interrupts',
      commit: (frames) => this.commitNow(frames),
      // a buffered one (off-contract) is not acked until committed: it comes back with a redelivery
      isLive: (frame) => !frame.bufferId,
      now: deps.now,
      log: deps.log,
      metrics: deps.metrics,
      onChange: deps.onChange,
    });
  }

  /** Interrupts waiting for the store. */
  get size(): number {
    return this.held.size;
  }

  /** Commit `frame` now, or behind the interrupts held already. */
  commit(frame: InterruptFrame): void {
    this.held.commit([frame]);
  }

  /** At close: stop retrying; what the store never took is reported. */
  abandon(): void {
    this.held.abandon();
  }

  /**
   * Commit in order; from the first interrupt the store refuses as unavailable on, they are
   * returned to be held. Any other failure is that interrupt's alone: reported, and dropped.
   */
  private commitNow(frames: readonly InterruptFrame[]): Refused<InterruptFrame> | undefined {
    for (const [i, frame] of frames.entries()) {
      try {
        this.deps.commit(frame);
      } catch (err) {
        if (isStoreUnavailable(err)) return { items: frames.slice(i), error: err };
        const error = errorMessage(err);
        reportError(
          this.deps.log,
          this.deps.metrics,
          'CORE_ERR_INBOX_COMMIT_FAILED',
          'interrupt not committed',
          {
            error,
          },
        );
      }
    }
    return undefined;
  }
}
