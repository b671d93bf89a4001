/**
 * The `inbox_attempts` table: transient failures (plugin crash, timeout, saturated pool) per
 * `bufferId`, kept in the store so the count survives restarts. After `inbox.maxAttempts` the
 * frame is quarantined, so one bad frame can never wedge the connector's redelivery loop.
 *
 * `updated_at` is on the inbox's {@link AgingClock}, like the dedupe keys: on the wall clock, a
 * forward step past `inbox.dedupeMaxAgeMs` pruned every count, and a poison frame the connector
 * kept redelivering got more than `maxAttempts` attempts.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { AgingClock } from './aging-clock.js';

/** Prepared access to `inbox_attempts`. */
export class FrameAttempts {
  private readonly bumpStmt;
  private readonly clearStmt;
  private readonly pruneStmt;

  constructor(
    db: BetterSqlite3.Database,
    private readonly clock: AgingClock,
  ) {
    this.bumpStmt = db
      .prepare<[string, number], number>(
        `INSERT INTO inbox_attempts (buffer_id, attempts, updated_at) VALUES (?, 1, ?)
         ON CONFLICT (buffer_id) DO UPDATE SET attempts = attempts + 1, updated_at = excluded.updated_at
         RETURNING attempts`,
      )
      .pluck();
    this.clearStmt = db.prepare<[string], void>('DELETE FROM inbox_attempts WHERE buffer_id = ?');
    this.pruneStmt = db.prepare<[number], void>('DELETE FROM inbox_attempts WHERE updated_at < ?');
  }

  /** Count one more transient failure of `bufferId` at wall time `now`; returns the total. */
  bump(bufferId: string, now: number): number {
    return this.bumpStmt.get(bufferId, this.clock.at(now)) ?? 1;
  }

  /** Forget the count of a frame that was committed or dead-lettered. */
  clear(bufferId: string): void {
    this.clearStmt.run(bufferId);
  }

  /**
   * Forget counts untouched for `maxAgeMs` on the aging clock at wall time `now` (the connector
   * gave up on those frames).
   */
  prune(now: number, maxAgeMs: number): number {
    return this.pruneStmt.run(this.clock.at(now) - maxAgeMs).changes;
  }
}

/** The newest attempt count's time in `db`, null when there is none. */
export function newestAttempt(db: BetterSqlite3.Database): number | null {
  return db.prepare<[], number | null>('SELECT MAX(updated_at) FROM inbox_attempts').pluck().get() ?? null;
}
