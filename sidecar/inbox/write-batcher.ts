/**
 * Group commit for delivery bookkeeping: the writes asked for during one event-loop turn
 * (attempt counts, delivered marks, rejections) run in one IMMEDIATE transaction, and each
 * caller's promise settles once that transaction is durable. Under load this turns thousands
 * of small commits per second into a few dozen; when idle it costs one turn of latency.
 */
import type BetterSqlite3 from 'better-sqlite3';

interface Pending {
  readonly op: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** Batches synchronous SQLite writes into one transaction per turn. */
export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private readonly group: BetterSqlite3.Transaction<(batch: readonly Pending[]) => unknown[]>;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly defer: (fn: () => void) => void = (fn) => setImmediate(fn),
  ) {
    this.group = db.transaction((batch: readonly Pending[]) => batch.map((p) => p.op()));
  }

  /** Run `op` inside the next group transaction; resolves with its result once committed. */
  run<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the inbox store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.defer(() => this.flush());
      }
    });
  }

  /** Commit what is queued and refuse further writes (before the database closes). */
  close(): void {
    this.flush();
    this.closed = true;
  }

  /** Commit everything queued now. */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
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
}
