/**
 * Periodic upkeep of the plugin stores' table (`kv`, behind `ctx.store`): expired rows swept, and
 * each namespace (a plugin) held to a number of keys by evicting those closest to expiry
 * (docs/decisions.md, "A cap on each plugin's keys"). Runs on the main thread's connection; the
 * key counts it reads are kept by the schema's triggers (kv-migrations.ts), so no step scans the
 * table.
 */
import type { Database } from './database.js';

/** Most rows one sweep deletes per statement, so one sweep never holds the write lock long. */
const SWEEP_BATCH = 5_000;

/** The sweep and the key cap of one connection's `kv` table (migrated by a `KvStore` first). */
export class KvUpkeep {
  private readonly sweepStmt;
  private readonly countsStmt;
  private readonly evictExpiringStmt;
  private readonly evictLastingStmt;

  /**
   * @param db a connection whose `kv` schema is migrated (a `KvStore` on it migrates it).
   * @param now epoch-ms clock, injectable for tests; default `Date.now`.
   */
  constructor(
    db: Database,
    private readonly now: () => number = Date.now,
  ) {
    this.sweepStmt = db.prepare<[number, number]>(
      `DELETE FROM kv WHERE (ns, key) IN (
         SELECT ns, key FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`,
    );
    this.countsStmt = db.prepare<[], { ns: string; n: number }>(
      'SELECT ns, n FROM kv_key_counts WHERE n > 0 ORDER BY ns',
    );
    // the expiry index, walked in order: sorting the namespace's keys instead took ~20 ms per
    // 100 000 on every batch; the index's entries carry ns, so other namespaces' are skipped unread
    this.evictExpiringStmt = db.prepare<[string, number]>(
      `DELETE FROM kv WHERE (ns, key) IN (
         SELECT ns, key FROM kv INDEXED BY kv_expires_at
         WHERE expires_at IS NOT NULL AND ns = ? ORDER BY expires_at LIMIT ?)`,
    );
    // reached once no key of the namespace expires: its keys are then all of this kind
    this.evictLastingStmt = db.prepare<[string, string, number]>(
      `DELETE FROM kv WHERE ns = ? AND key IN (
         SELECT key FROM kv WHERE ns = ? AND expires_at IS NULL ORDER BY key LIMIT ?)`,
    );
  }

  /** Delete expired rows, in bounded batches, up to `max` rows. Returns how many were deleted. */
  sweepExpired(max = 100_000): number {
    const now = this.now();
    let total = 0;
    while (total < max) {
      const { changes } = this.sweepStmt.run(now, Math.min(SWEEP_BATCH, max - total));
      total += changes;
      if (changes < SWEEP_BATCH) break;
    }
    return total;
  }

  /**
   * Keys per namespace that holds any, committed ones (expired rows not yet swept included). A
   * few rows read: the counts are kept by the schema's triggers with every write.
   */
  keyCounts(): Map<string, number> {
    return new Map(this.countsStmt.all().map((row) => [row.ns, row.n]));
  }

  /**
   * Delete up to `max` keys of `ns`: those closest to expiry first, then those without expiry in
   * key order. One statement or two, so a caller bounds each turn's write-lock time by `max`.
   * Returns how many were deleted.
   */
  evict(ns: string, max: number): number {
    const expiring = this.evictExpiringStmt.run(ns, max).changes;
    if (expiring >= max) return expiring;
    return expiring + this.evictLastingStmt.run(ns, ns, max - expiring).changes;
  }
}
