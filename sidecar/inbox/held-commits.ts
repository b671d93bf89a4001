/**
 * Frames the store refused as unavailable (a full disk, an I/O error, the write lock not granted:
 * `isStoreUnavailable`), held in order with every frame completed after them and committed again
 * on a timer until the store takes them. Nothing is acked meanwhile; the caller counts
 * {@link HeldCommits.size} toward `inbox.maxIngestPending`, so past it socket reading pauses as
 * under load, and below it the socket is read on (outbound results, keepalive).
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { HeldFrames } from './frame-commit.js';
import type { FrameJob, FrameOutcome } from './frame-outcome.js';

/** First wait before committing held frames again, ms; it doubles per failed try up to {@link HELD_RETRY_MAX_MS}. */
export const HELD_RETRY_MIN_MS = 100;
/** Longest wait between two tries of held frames, ms. */
export const HELD_RETRY_MAX_MS = 5_000;

type Item = [FrameJob, FrameOutcome];

/** What holding needs. */
export interface HeldCommitsDeps {
  /** Commit `items` in order; what the store could not take now is returned. */
  readonly commit: (items: readonly Item[]) => HeldFrames | undefined;
  readonly now: () => number;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The number held changed (after a retry): the caller updates its backpressure. */
  readonly onChange: () => void;
}

/** The ingest pipeline's commits, with the frames the store refused held for a retry. */
export class HeldCommits {
  private held: Item[] = [];
  /** When the store first refused the frames held now (undefined: none held). */
  private since: number | undefined;
  private retryMs = HELD_RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: HeldCommitsDeps) {}

  /** Frames waiting for the store to take their commit. */
  get size(): number {
    return this.held.length;
  }

  /** Commit `items` now, or behind the frames held already, in order. */
  commit(items: readonly Item[]): void {
    if (this.held.length > 0) this.held.push(...items);
    else this.hold(this.deps.commit(items));
  }

  /** At close: stop retrying; frames the store never took are reported and settled. */
  abandon(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.held;
    this.held = [];
    if (held.length === 0) return;
    // buffered frames come back with a redelivery and a replay's dead letter stays: only a live frame is lost
    const live = held.filter(([job]) => job.bufferId === undefined && job.replayOf === undefined).length;
    reportError(
      this.deps.log,
      this.deps.metrics,
      'CORE_ERR_INBOX_COMMIT_FAILED',
      'closing with frames the store never took',
      { frames: held.length, live, buffered: held.length - live },
      'error',
    );
    for (const [job] of held) job.onSettled?.();
  }

  /** Hold what the store refused (reported once per episode) and try it again later. */
  private hold(refused: HeldFrames | undefined): void {
    if (!refused) return;
    this.held = [...refused.items, ...this.held];
    if (this.since === undefined) {
      this.since = this.deps.now();
      reportError(
        this.deps.log,
        this.deps.metrics,
        'CORE_ERR_INBOX_COMMIT_FAILED',
        'the store refuses commits; frames held unacked and retried',
        { error: errorMessage(refused.error), frames: this.held.length },
      );
    }
    this.timer = setTimeout(() => this.retry(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, HELD_RETRY_MAX_MS);
  }

  private retry(): void {
    this.timer = undefined;
    const items = this.held;
    this.held = [];
    this.hold(this.deps.commit(items));
    if (this.held.length === 0) {
      const heldMs = Math.round(this.deps.now() - (this.since ?? 0));
      this.deps.log.info(
        { frames: items.length, heldMs },
        'the store takes commits again; held frames committed',
      );
      this.since = undefined;
      this.retryMs = HELD_RETRY_MIN_MS;
    }
    this.deps.onChange();
  }
}
