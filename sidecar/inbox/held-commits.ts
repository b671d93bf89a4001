/**
 * Frames (or interrupts) the store refused as unavailable (a full disk, an I/O error, the write
 * lock not granted: `isStoreUnavailable`), held in order with every one completed after them and
 * committed again on a timer until the store takes them. Nothing is acked meanwhile; the caller
 * counts {@link HeldCommits.size} toward `inbox.maxIngestPending`, so past it socket reading
 * pauses as under load, and below it the socket is read on (outbound results, keepalive).
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';

/** First wait before committing held frames again, ms; it doubles per failed try up to {@link HELD_RETRY_MAX_MS}. */
export const HELD_RETRY_MIN_MS = 100;
/** Longest wait between two tries of held frames, ms. */
export const HELD_RETRY_MAX_MS = 5_000;

/** What the store could not take now (from the first it refused on, in order), and why. */
export interface Refused<T> {
  readonly items: readonly T[];
  readonly error: unknown;
}

/** The log lines of one kind of held item (fixed strings). */
const LINES = {
  frames: {
    refused: 'the store refuses commits; frames held unacked and retried',
    taken: 'the store takes commits again; held frames committed',
    abandoned: 'closing with frames the store never took',
  },
  interrupts: {
    refused: 'the store refuses commits; interrupts held and retried',
    taken: 'the store takes commits again; held interrupts committed',
    abandoned: 'closing with interrupts the store never took',
  },
} as const;

/** What holding needs. */
export interface HeldCommitsDeps<T> {
  /** What is held: names the log lines and their count field. */
  readonly kind: keyof typeof LINES;
  /** Commit `items` in order; what the store could not take now is returned. */
  readonly commit: (items: readonly T[]) => Refused<T> | undefined;
  /** Whether `item` is lost when never committed (a buffered one comes back with a redelivery). */
  readonly isLive: (item: T) => boolean;
  /** Called for each item given up at close. */
  readonly settle?: (item: T) => void;
  readonly now: () => number;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The number held changed (after a retry): the caller updates its backpressure. */
  readonly onChange: () => void;
}

/** The ingest pipeline's commits, with what the store refused held for a retry. */
export class HeldCommits<T> {
  private held: T[] = [];
  /** When the store first refused the frames held now (undefined: none held). */
  private since: number | undefined;
  private retryMs = HELD_RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: HeldCommitsDeps<T>) {}

  /** Items waiting for the store to take their commit. */
  get size(): number {
    return this.held.length;
  }

  /** Commit `items` now, or behind those held already, in order. */
  commit(items: readonly T[]): void {
    if (this.held.length > 0) this.held.push(...items);
    else this.hold(this.deps.commit(items));
  }

  /** At close: stop retrying; what the store never took is reported and settled. */
  abandon(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.held;
    this.held = [];
    if (held.length === 0) return;
    const live = held.filter(this.deps.isLive).length;
    reportError(
      this.deps.log,
      this.deps.metrics,
      'CORE_ERR_INBOX_COMMIT_FAILED',
      LINES[this.deps.kind].abandoned,
      { [this.deps.kind]: held.length, live, buffered: held.length - live },
      'error',
    );
    if (this.deps.settle) for (const item of held) this.deps.settle(item);
  }

  /** Hold what the store refused (reported once per episode) and try it again later. */
  private hold(refused: Refused<T> | undefined): void {
    if (!refused) return;
    this.held = [...refused.items, ...this.held];
    if (this.since === undefined) {
      this.since = this.deps.now();
      reportError(
        this.deps.log,
        this.deps.metrics,
        'CORE_ERR_INBOX_COMMIT_FAILED',
        LINES[this.deps.kind].refused,
        { error: errorMessage(refused.error), [this.deps.kind]: this.held.length },
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
      this.deps.log.info({ [this.deps.kind]: items.length, heldMs }, LINES[this.deps.kind].taken);
      this.since = undefined;
      this.retryMs = HELD_RETRY_MIN_MS;
    }
    this.deps.onChange();
  }
}
