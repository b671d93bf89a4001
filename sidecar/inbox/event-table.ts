/**
 * The `inbox_events` table (one small row per delivery, pending → delivered or dead) and its
 * `inbox_envelopes`. All statements are prepared once; every call is synchronous.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { DeliveryType } from './envelope.js';

/** What the scheduler keeps in memory per queued delivery (the envelope stays on disk). */
export interface QueuedDelivery {
  readonly seq: number;
  readonly id: string;
  readonly type: DeliveryType;
  readonly sessionKey: string;
  /** Commit time, ms since the epoch (delivery latency is measured from here). */
  readonly createdAt: number;
}

/** A row to insert. */
export interface NewDelivery {
  readonly id: string;
  readonly type: DeliveryType;
  readonly sessionKey: string;
  /** The stored envelope (attempt 0). */
  readonly envelope: string;
}

/** Counts by state, for stats and the depth gauge (dead rows are counted as dead letters). */
export interface StateCounts {
  pending: number;
  delivered: number;
}

interface QueuedRow {
  seq: number;
  id: string;
  type: DeliveryType;
  session_key: string;
  created_at: number;
}

/** Prepared access to `inbox_events` and `inbox_envelopes`. */
export class EventTable {
  private readonly insertStmt;
  private readonly insertEnvelopeStmt;
  private readonly peekStmt;
  private readonly attemptStmt;
  private readonly deliveredStmt;
  private readonly rejectStmt;
  private readonly deadStmt;
  private readonly requeueStmt;
  private readonly queuedStmt;
  private readonly oneQueuedStmt;
  private readonly stateStmt;
  private readonly countsStmt;
  private readonly oldestStmt;
  private readonly pruneEnvelopesStmt;
  private readonly pruneStmt;
  private readonly pruneTx;
  private readonly forgetDeadStmt;
  private readonly envelopeDeleteStmt;

  constructor(db: BetterSqlite3.Database) {
    this.insertStmt = db.prepare<[string, string, string, number, number], void>(
      `INSERT INTO inbox_events (id, type, session_key, state, created_at, updated_at)
         VALUES (?, ?, ?, 'pending', ?, ?)`,
    );
    this.insertEnvelopeStmt = db.prepare<[number, string], void>(
      'INSERT INTO inbox_envelopes (seq, envelope) VALUES (?, ?)',
    );
    this.peekStmt = db.prepare<[string], { attempt: number; envelope: string }>(
      `SELECT e.attempt, v.envelope FROM inbox_events e JOIN inbox_envelopes v ON v.seq = e.seq
         WHERE e.id = ? AND e.state = 'pending'`,
    );
    // an attempt only raises a counter: no index changes, a small row rewritten
    this.attemptStmt = db.prepare<[number, number, string], void>(
      `UPDATE inbox_events SET attempt = max(attempt, ?), updated_at = ?
         WHERE id = ? AND state = 'pending'`,
    );
    // the attempt that delivered is saved with the mark when its own save had not run yet
    this.deliveredStmt = db.prepare<[number, number, string], { created_at: number }>(
      `UPDATE inbox_events SET state = 'delivered', attempt = max(attempt, ?), updated_at = ?
         WHERE id = ? AND state = 'pending' RETURNING created_at`,
    );
    this.rejectStmt = db.prepare<[number, string], { rejections: number }>(
      `UPDATE inbox_events SET rejections = rejections + 1, updated_at = ?
         WHERE id = ? AND state = 'pending' RETURNING rejections`,
    );
    this.deadStmt = db.prepare<[number, string], { seq: number }>(
      `UPDATE inbox_events SET state = 'dead', updated_at = ?
         WHERE id = ? AND state = 'pending' RETURNING seq`,
    );
    this.requeueStmt = db.prepare<[number, string], QueuedRow>(
      `UPDATE inbox_events SET state = 'pending', rejections = 0, updated_at = ?
         WHERE id = ? AND state = 'dead' RETURNING seq, id, type, session_key, created_at`,
    );
    this.queuedStmt = db.prepare<[], QueuedRow>(
      `SELECT seq, id, type, session_key, created_at FROM inbox_events
         WHERE state = 'pending' ORDER BY seq`,
    );
    this.oneQueuedStmt = db.prepare<[string], QueuedRow & { attempt: number }>(
      `SELECT seq, id, type, session_key, created_at, attempt FROM inbox_events
         WHERE id = ? AND state = 'pending'`,
    );
    this.stateStmt = db.prepare<[string], string>('SELECT state FROM inbox_events WHERE id = ?').pluck();
    // each count walks its partial index only, never the table
    this.countsStmt = db.prepare<[], StateCounts>(
      `SELECT (SELECT COUNT(*) FROM inbox_events WHERE state = 'pending') AS pending,
              (SELECT COUNT(*) FROM inbox_events WHERE state = 'delivered') AS delivered`,
    );
    this.oldestStmt = db
      .prepare<[], number>(`SELECT created_at FROM inbox_events WHERE state = 'pending' ORDER BY seq LIMIT 1`)
      .pluck();
    // the same ordered, limited selection in both statements (run in one transaction)
    // a range of the partial index inbox_events_delivered: O(batch), whatever the table size
    const due = `SELECT seq FROM inbox_events WHERE state = 'delivered' AND updated_at < ?
                   ORDER BY updated_at LIMIT ?`;
    this.pruneEnvelopesStmt = db.prepare<[number, number], void>(
      `DELETE FROM inbox_envelopes WHERE seq IN (${due})`,
    );
    this.pruneStmt = db.prepare<[number, number], void>(`DELETE FROM inbox_events WHERE seq IN (${due})`);
    this.pruneTx = db.transaction((before: number, batch: number): number => {
      this.pruneEnvelopesStmt.run(before, batch);
      return this.pruneStmt.run(before, batch).changes;
    });
    this.envelopeDeleteStmt = db.prepare<[number], void>('DELETE FROM inbox_envelopes WHERE seq = ?');
    this.forgetDeadStmt = db.prepare<[string], { seq: number }>(
      `DELETE FROM inbox_events WHERE id = ? AND state = 'dead' RETURNING seq`,
    );
  }

  /** Insert a pending row; its rowid is its commit order. Call inside the commit transaction. */
  insert(row: NewDelivery, now: number): QueuedDelivery {
    const { lastInsertRowid } = this.insertStmt.run(row.id, row.type, row.sessionKey, now, now);
    const seq = Number(lastInsertRowid);
    this.insertEnvelopeStmt.run(seq, row.envelope);
    return { seq, id: row.id, type: row.type, sessionKey: row.sessionKey, createdAt: now };
  }

  /** A pending row's saved attempt count and stored envelope (a read). Undefined when not pending. */
  peek(id: string): { attempt: number; envelope: string } | undefined {
    return this.peekStmt.get(id);
  }

  /** Save that attempt `attempt` has started (never lowers the count). */
  recordAttempt(id: string, attempt: number, now: number): void {
    this.attemptStmt.run(attempt, now, id);
  }

  /**
   * Mark delivered (by attempt `attempt`, raising the saved count to it); returns the commit
   * time, or undefined when it was not pending.
   */
  markDelivered(id: string, now: number, attempt = 0): number | undefined {
    return this.deliveredStmt.get(attempt, now, id)?.created_at;
  }

  /** Count one rejection (4xx); returns the new total, or undefined when not pending. */
  reject(id: string, now: number): number | undefined {
    return this.rejectStmt.get(now, id)?.rejections;
  }

  /** Move a row to `dead`; false when it was not pending. */
  markDead(id: string, now: number): boolean {
    return this.deadStmt.get(now, id) !== undefined;
  }

  /** Put a dead row back to pending (replay); returns its queue entry. */
  requeue(id: string, now: number): QueuedDelivery | undefined {
    const row = this.requeueStmt.get(now, id);
    return row && toQueued(row);
  }

  /** Every row still to deliver, in commit order (loaded at open). */
  queued(): QueuedDelivery[] {
    return this.queuedStmt.all().map(toQueued);
  }

  /** One still-to-deliver row with its attempt count, or undefined. */
  queuedOne(id: string): (QueuedDelivery & { attempt: number }) | undefined {
    const row = this.oneQueuedStmt.get(id);
    return row && { ...toQueued(row), attempt: row.attempt };
  }

  /** The state of a row, or undefined when unknown (or pruned). */
  stateOf(id: string): string | undefined {
    return this.stateStmt.get(id);
  }

  /** Row counts by state. */
  counts(): StateCounts {
    return this.countsStmt.get() ?? { pending: 0, delivered: 0 };
  }

  /** Commit time of the oldest row still to deliver. */
  oldestQueuedAt(): number | undefined {
    return this.oldestStmt.get();
  }

  /** Delete a dead row (and its envelope) whose dead letter was pruned. */
  forgetDead(id: string): void {
    const row = this.forgetDeadStmt.get(id);
    if (row) this.envelopeDeleteStmt.run(row.seq);
  }

  /** Forget at most `batch` delivered rows last touched before `before`; returns how many. */
  pruneDelivered(before: number, batch: number): number {
    return this.pruneTx.immediate(before, batch);
  }
}

function toQueued(row: QueuedRow): QueuedDelivery {
  return { seq: row.seq, id: row.id, type: row.type, sessionKey: row.session_key, createdAt: row.created_at };
}
