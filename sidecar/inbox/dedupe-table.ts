/**
 * The `inbox_dedupe` table: keys of frames and events already handled, persisted across
 * restarts, bounded by age (`inbox.dedupeMaxAgeMs`) and count (`inbox.dedupeMaxEntries`).
 */
import type BetterSqlite3 from 'better-sqlite3';

/** Prepared access to `inbox_dedupe`. */
export class DedupeTable {
  private readonly hasStmt;
  private readonly addStmt;
  private readonly pruneAgeStmt;
  private readonly countStmt;
  private readonly pruneCountStmt;
  /** Keys in the table, once counted (see {@link prune}). */
  private count: number | undefined;

  constructor(db: BetterSqlite3.Database) {
    this.hasStmt = db.prepare<[string], number>('SELECT 1 FROM inbox_dedupe WHERE key = ?').pluck();
    // IGNORE, not REPLACE: `changes` then says whether a key was added, which keeps the count exact
    this.addStmt = db.prepare<[string, number], void>(
      'INSERT OR IGNORE INTO inbox_dedupe (key, created_at) VALUES (?, ?)',
    );
    this.pruneAgeStmt = db.prepare<[number, number], void>(
      `DELETE FROM inbox_dedupe WHERE key IN
         (SELECT key FROM inbox_dedupe WHERE created_at < ? ORDER BY created_at LIMIT ?)`,
    );
    this.countStmt = db.prepare<[], number>('SELECT COUNT(*) FROM inbox_dedupe').pluck();
    this.pruneCountStmt = db.prepare<[number], void>(
      `DELETE FROM inbox_dedupe WHERE key IN
         (SELECT key FROM inbox_dedupe ORDER BY created_at ASC LIMIT ?)`,
    );
  }

  /** True when `key` was seen (and not yet forgotten). */
  has(key: string): boolean {
    return this.hasStmt.get(key) !== undefined;
  }

  /**
   * Remember `key` as handled at `now`; false when it was already known (it keeps its time). One
   * statement answers both "seen?" and "remember": call inside the commit transaction.
   */
  add(key: string, now: number): boolean {
    const { changes } = this.addStmt.run(key, now);
    if (this.count !== undefined) this.count += changes;
    return changes > 0;
  }

  /**
   * Forget keys older than `maxAgeMs`, then the oldest beyond `maxEntries`, at most `batch` of
   * each (a bounded statement keeps the event loop responsive); returns how many.
   */
  prune(now: number, maxAgeMs: number, maxEntries: number, batch: number): number {
    // counted once, then kept up to date: COUNT(*) walks the whole table (200 000 keys by default)
    // and ran on every pass (benchmarks F6). Only this connection writes the table; a rolled-back
    // add can only make the count high, which prunes a few keys early, never too late.
    this.count ??= this.countStmt.get() ?? 0;
    let removed = this.pruneAgeStmt.run(now - maxAgeMs, batch).changes;
    const excess = this.count - removed - maxEntries;
    if (excess > 0) removed += this.pruneCountStmt.run(Math.min(excess, batch)).changes;
    this.count -= removed;
    return removed;
  }
}
