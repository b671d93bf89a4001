/**
 * Group commit for delivery bookkeeping: writes asked for close together (attempt counts,
 * delivered marks, rejections) run in one IMMEDIATE transaction, and each caller's promise
 * settles once that transaction is durable. When idle a write commits on the next event-loop
 * turn; under load commits are spaced at least `intervalMs` apart, so the number of
 * transactions per second stays bounded however many deliveries finish (benchmarks F2).
 */
import type BetterSqlite3 from 'better-sqlite3';

interface Pending {
  readonly op: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** How commits are paced. */
export interface WriteBatcherOptions {
  /** Least time between two commits, ms (`inbox.groupCommitMs`); 0 = one commit per turn. */
  readonly intervalMs?: number;
  /** Commit at once (next turn) when this many writes are queued. Default 1 000. */
  readonly maxBatch?: number;
  /** Clock for the spacing, ms. Default `performance.now`. */
  readonly now?: () => number;
}

/** Batches synchronous SQLite writes into one transaction per turn or per interval. */
export class WriteBatcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private lastFlush = Number.NEGATIVE_INFINITY;
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private readonly now: () => number;
  private readonly group: BetterSqlite3.Transaction<(batch: readonly Pending[]) => unknown[]>;

  constructor(
    private readonly db: BetterSqlite3.Database,
    options: WriteBatcherOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 0;
    this.maxBatch = options.maxBatch ?? 1_000;
    this.now = options.now ?? (() => performance.now());
    this.group = db.transaction((batch: readonly Pending[]) => batch.map((p) => p.op()));
  }

  /** Run `op` inside the next group transaction; resolves with its result once committed. */
  run<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the inbox store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Writes queued and not yet committed. */
  get queued(): number {
    return this.queue.length;
  }

  /** Commit what is queued and refuse further writes (before the database closes). */
  close(): void {
    this.flush();
    this.closed = true;
  }

  /** Commit everything queued now. */
  flush(): void {
    this.cancelScheduled();
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    this.lastFlush = this.now();
    let results: unknown[];
    try {
      results = this.group.immediate(batch);
    } catch {
      // the whole group rolled back: run each alone so one failure fails only its caller
      for (const p of batch) {
        try {
          p.resolve(this.db.transaction(p.op).immediate());
        } catch (err) {
          p.reject(err);
        }
      }
      return;
    }
    for (const [i, p] of batch.entries()) p.resolve(results[i]);
  }

  /** Next turn when idle or full; otherwise when `intervalMs` has passed since the last commit. */
  private schedule(): void {
    if (this.immediate !== undefined) return;
    const wait = this.intervalMs - (this.now() - this.lastFlush);
    if (wait > 0 && this.queue.length < this.maxBatch) {
      this.timer ??= setTimeout(() => this.flush(), Math.ceil(wait));
      return;
    }
    // idle long enough, or full: a full queue does not wait out the interval
    this.cancelScheduled();
    this.immediate = setImmediate(() => this.flush());
  }

  private cancelScheduled(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
