/**
 * The `inbox_outbox` table: push response actions waiting to run, one row each, in the order
 * they were written (seq). Rows are written by the delivered mark's transaction, marked started
 * before a try whose frame may go out, and deleted once settled. All statements are prepared
 * once; every call is synchronous.
 *
 * The table is bounded (`agent.maxResponseActions`): {@link size} counts the rows on disk plus
 * those reserved by delivered marks not yet committed, so a check against it holds while the
 * marks of several deliveries wait for one group commit.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { ActionOutbox, OutboxAction } from '../delivery/action-runner.js';
import type { WriteBatcher } from './write-batcher.js';

interface Row {
  seq: number;
  delivery_id: string;
  idx: number;
  action: string;
  started_at: number | null;
}

/** Prepared access to `inbox_outbox`, with its size kept in memory. */
export class OutboxTable {
  private readonly insertStmt;
  private readonly headStmt;
  private readonly startStmt;
  private readonly deleteStmt;
  private readonly sessionsStmt;
  private count: number;
  private reserved = 0;
  private readonly listeners = new Set<(size: number) => void>();

  constructor(db: BetterSqlite3.Database) {
    this.insertStmt = db.prepare<[string, string, number, string], void>(
      'INSERT INTO inbox_outbox (session_key, delivery_id, idx, action) VALUES (?, ?, ?, ?)',
    );
    this.headStmt = db.prepare<[string], Row>(
      `SELECT seq, delivery_id, idx, action, started_at FROM inbox_outbox
         WHERE session_key = ? ORDER BY seq LIMIT 1`,
    );
    this.startStmt = db.prepare<[number | null, number], void>(
      'UPDATE inbox_outbox SET started_at = ? WHERE seq = ?',
    );
    this.deleteStmt = db.prepare<[number], { seq: number }>(
      'DELETE FROM inbox_outbox WHERE seq = ? RETURNING seq',
    );
    this.sessionsStmt = db.prepare<[], { session_key: string }>(
      'SELECT DISTINCT session_key FROM inbox_outbox ORDER BY session_key',
    );
    this.count = (db.prepare('SELECT count(*) AS n FROM inbox_outbox').get() as { n: number }).n;
  }

  /** Rows on disk plus rows reserved by delivered marks not yet committed. */
  get size(): number {
    return this.count + this.reserved;
  }

  /** Be told the size now and after every change (the depth gauge, waits for room). */
  onSize(listener: (size: number) => void): void {
    this.listeners.add(listener);
    listener(this.size);
  }

  /**
   * Room for another response's actions under `max`? An empty outbox takes any response, so one
   * response holding more actions than the bound is not held up forever.
   */
  hasRoom(max: number): boolean {
    return this.size === 0 || this.size < max;
  }

  /** Hold `n` rows for a delivered mark about to commit. */
  reserve(n: number): void {
    this.reserved += n;
    this.changed();
  }

  /** The mark committed (`written`: its rows were inserted) or failed: `n` rows no longer held. */
  release(n: number, written: boolean): void {
    this.reserved -= n;
    if (written) this.count += n;
    this.changed();
  }

  /** Insert the actions of delivery `deliveryId`, in order. Runs inside the mark's transaction. */
  insert(sessionKey: string, deliveryId: string, actions: readonly unknown[]): void {
    for (const [index, action] of actions.entries()) {
      // JSON.stringify of undefined (a sparse list) is undefined: stored as null, refused later
      this.insertStmt.run(sessionKey, deliveryId, index, JSON.stringify(action) ?? 'null');
    }
  }

  /** The oldest row of `sessionKey`, or undefined. */
  head(sessionKey: string): OutboxAction | undefined {
    const row = this.headStmt.get(sessionKey);
    if (!row) return undefined;
    return {
      seq: row.seq,
      deliveryId: row.delivery_id,
      index: row.idx,
      action: JSON.parse(row.action) as unknown,
      started: row.started_at !== null,
    };
  }

  /** Set (a time) or clear (null) the started mark. */
  markStarted(seq: number, at: number | null): void {
    this.startStmt.run(at, seq);
  }

  /** Delete a settled row; false when it was gone already. */
  remove(seq: number): boolean {
    return this.deleteStmt.get(seq) !== undefined;
  }

  /** The count after a committed {@link remove}. */
  removed(): void {
    this.count--;
    this.changed();
  }

  /** Sessions with rows, each once. */
  sessions(): string[] {
    return this.sessionsStmt.all().map((r) => r.session_key);
  }

  private changed(): void {
    for (const listener of this.listeners) listener(this.size);
  }
}

/**
 * The runner's view of `table` ({@link ActionOutbox}): marks and removals go through the write
 * batcher, each promise settling once its transaction is durable.
 */
export function actionOutbox(table: OutboxTable, batcher: WriteBatcher, now: () => number): ActionOutbox {
  return {
    head: (sessionKey) => table.head(sessionKey),
    sessions: () => table.sessions(),
    start: (seq) => batcher.run(() => table.markStarted(seq, now())),
    unstart: (seq) => batcher.run(() => table.markStarted(seq, null)),
    settle: async (seq) => {
      if (await batcher.run(() => table.remove(seq))) table.removed();
    },
  };
}
