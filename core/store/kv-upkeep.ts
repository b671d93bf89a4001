/**
 * Periodic upkeep of the plugin stores' table (`kv`, behind `ctx.store`): expired rows swept, and
 * each namespace (a plugin) held to a number of keys and of bytes by evicting the keys closest to
 * expiry (docs/decisions.md, "A cap on each plugin's keys", "… and on its bytes"). Runs on the
 * main thread's connection; the counts it reads are kept by the schema's triggers
 * (kv-migrations.ts), so no step scans the table.
 */
import type { Database } from './database.js';

/** Most rows one sweep deletes per statement, so one sweep never holds the write lock long. */
const SWEEP_BATCH = 5_000;

/** What a namespace holds: keys, and UTF-8 bytes of its keys and values (expired rows not yet swept included). */
export interface NamespaceSize {
  readonly keys: number;
  readonly bytes: number;
}

/** The sweep and the caps of one connection's `kv` table (migrated by a `KvStore` first). */
export class KvUpkeep {
  private readonly sweepStmt;
  private readonly countsStmt;
  private readonly expiringStmt;
  private readonly lastingStmt;
  private readonly evictTx;
  private readonly evictKeys: (ns: string, max: number) => NamespaceSize;

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
    this.countsStmt = db.prepare<[], { ns: string; n: number; bytes: number }>(
      'SELECT ns, n, bytes FROM kv_key_counts WHERE n > 0 ORDER BY ns',
    );
    // the expiry index, walked in order: sorting the namespace's keys instead took ~20 ms per
    // 100 000 on every batch; the index's entries carry ns and key, so the walk reads no row (the
    // sizes read here too made it look up every row it passed, other namespaces' included:
    // 20-80 ms per batch of 500 among 400 000 keys, against ~1 ms)
    this.expiringStmt = db.prepare<[string, number], { key: string }>(
      `SELECT key FROM kv INDEXED BY kv_expires_at
       WHERE expires_at IS NOT NULL AND ns = ? ORDER BY expires_at LIMIT ?`,
    );
    // reached once no key of the namespace expires: its keys are then all of this kind
    this.lastingStmt = db.prepare<[string, number], { key: string }>(
      'SELECT key FROM kv WHERE ns = ? AND expires_at IS NULL ORDER BY key LIMIT ?',
    );
    // the size of what it deleted, read in the lookup the delete makes anyway
    const deleteStmt = db.prepare<[string, string], { size: number }>(
      'DELETE FROM kv WHERE ns = ? AND key = ? RETURNING octet_length(key) + octet_length(value) AS size',
    );
    // over the key cap only: one statement per kind, as fast as before the sizes were counted
    const evictExpiring = db.prepare<[string, number], { size: number }>(
      `DELETE FROM kv WHERE (ns, key) IN (
         SELECT ns, key FROM kv INDEXED BY kv_expires_at
         WHERE expires_at IS NOT NULL AND ns = ? ORDER BY expires_at LIMIT ?)
       RETURNING octet_length(key) + octet_length(value) AS size`,
    );
    const evictLasting = db.prepare<[string, string, number], { size: number }>(
      `DELETE FROM kv WHERE ns = ? AND key IN (
         SELECT key FROM kv WHERE ns = ? AND expires_at IS NULL ORDER BY key LIMIT ?)
       RETURNING octet_length(key) + octet_length(value) AS size`,
    );
    const sum = (rows: { size: number }[]) => ({
      keys: rows.length,
      bytes: rows.reduce((n, r) => n + r.size, 0),
    });
    // no transaction: each statement is one (BEGIN IMMEDIATE around them cost ~5 ms a batch more)
    this.evictKeys = (ns: string, max: number): NamespaceSize => {
      const expiring = sum(evictExpiring.all(ns, max));
      if (expiring.keys >= max) return expiring;
      const lasting = sum(evictLasting.all(ns, ns, max - expiring.keys));
      return { keys: expiring.keys + lasting.keys, bytes: expiring.bytes + lasting.bytes };
    };
    // over the byte cap: key by key, until the bytes asked are freed
    this.evictTx = db.transaction((ns: string, max: number, want: NamespaceSize): NamespaceSize => {
      const freed = { keys: 0, bytes: 0 };
      const enough = () => freed.keys >= max || (freed.keys >= want.keys && freed.bytes >= want.bytes);
      for (const stmt of [this.expiringStmt, this.lastingStmt]) {
        for (const { key } of stmt.all(ns, max - freed.keys)) {
          if (enough()) break;
          const deleted = deleteStmt.get(ns, key);
          if (!deleted) continue;
          freed.keys++;
          freed.bytes += deleted.size;
        }
        if (enough()) break;
      }
      return freed;
    });
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
   * Keys and bytes per namespace that holds any, committed ones (expired rows not yet swept
   * included). A few rows read: the counts are kept by the schema's triggers with every write.
   */
  counts(): Map<string, NamespaceSize> {
    return new Map(this.countsStmt.all().map((row) => [row.ns, { keys: row.n, bytes: row.bytes }]));
  }

  /**
   * Delete keys of `ns`, those closest to expiry first, then those without expiry in key order,
   * until `want.keys` keys and `want.bytes` bytes are freed, at most `max` keys: a caller bounds
   * each turn's write-lock time by `max`. Asked for keys only, one statement per kind (what the
   * key cap always took); asked for bytes, key by key in one transaction, each delete returning
   * its row's size (~20 % dearer per batch, measured). Returns what was freed: fewer than `max`
   * keys short of `want` means the namespace holds no more.
   */
  evict(ns: string, max: number, want: NamespaceSize = { keys: max, bytes: 0 }): NamespaceSize {
    if (want.bytes <= 0) return this.evictKeys(ns, Math.min(max, want.keys));
    return this.evictTx.immediate(ns, max, want);
  }
}
