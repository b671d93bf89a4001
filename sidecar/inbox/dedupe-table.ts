/**
 * Dedupe keys of frames and events already handled, persisted across restarts, bounded by age
 * (`inbox.dedupeMaxAgeMs`) and count (`inbox.dedupeMaxEntries`).
 *
 * Lookups are answered from memory (a {@link FingerprintSet}, loaded from the table at start);
 * the table `inbox_dedupe_keys` holds the keys in arrival order with no index on the key, so
 * remembering one writes the right edge of its B-trees. A table keyed by the key (the schema
 * before) dirtied a random leaf page per key: ~15 µs of the read loop per event on a full inbox
 * (docs/benchmarks.md, F11).
 *
 * Ages are counted on the inbox's {@link AgingClock}, the wall clock less the forward steps seen
 * ({@link observeClock}): an NTP correction of a week (a VM restored from a snapshot) made every
 * key look old, all were pruned in one pass, and the frames the connector redelivered on the
 * reconnect that follows were delivered twice.
 *
 * Memory and disk agree at every commit: a key added inside a transaction that rolls back is
 * forgotten again ({@link track}); keys are removed from memory only after their rows are
 * deleted. Only this connection writes the table.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { AgingClock } from './aging-clock.js';
import { type Fingerprint, FingerprintSet, fingerprint } from './fingerprint-set.js';

/** Looked-up fingerprints kept for their add, at most. */
const MAX_LOOKED_UP = 16_384;

/** The dedupe keys: a fingerprint set in memory over their table in SQLite. */
export class DedupeTable {
  private readonly known = new FingerprintSet();
  /** Fingerprints of keys looked up and not yet added (see {@link has}). */
  private readonly looked = new Map<string, Fingerprint>();
  /** Fingerprints added since the enclosing transaction began. */
  private pending: Fingerprint[] = [];
  private readonly insertStmt;
  private readonly pruneAgeStmt;
  private readonly pruneCountStmt;
  /** The clock the keys age on, shared with the attempt counters. */
  readonly clock: AgingClock;

  /** @param clock the inbox's aging clock; by default one of its own, from the newest key. */
  constructor(
    private readonly db: BetterSqlite3.Database,
    clock?: AgingClock,
  ) {
    this.insertStmt = db.prepare<[string, number], void>(
      'INSERT INTO inbox_dedupe_keys (key, created_at) VALUES (?, ?)',
    );
    this.pruneAgeStmt = db
      .prepare<[number, number], string>(
        `DELETE FROM inbox_dedupe_keys WHERE seq IN
         (SELECT seq FROM inbox_dedupe_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)
       RETURNING key`,
      )
      .pluck();
    this.pruneCountStmt = db
      .prepare<[number], string>(
        `DELETE FROM inbox_dedupe_keys WHERE seq IN
         (SELECT seq FROM inbox_dedupe_keys ORDER BY seq LIMIT ?)
       RETURNING key`,
      )
      .pluck();
    this.clock = clock ?? new AgingClock(newestDedupeKey(db));
    const all = db.prepare<[], string>('SELECT key FROM inbox_dedupe_keys ORDER BY seq').pluck();
    for (const key of all.iterate()) this.known.add(fingerprint(key));
  }

  /** Keys remembered. */
  get size(): number {
    return this.known.size;
  }

  /** Bytes of memory the lookup set takes. */
  get memoryBytes(): number {
    return this.known.bytes;
  }

  /** Wall time (ms) the keys' ages do not count (see {@link observeClock}). */
  get clockSkewMs(): number {
    return this.clock.skewMs;
  }

  /** {@link AgingClock.observe}: the inbox's upkeep calls this before it prunes. */
  observeClock(now: number, mono?: number): void {
    this.clock.observe(now, mono);
  }

  /** True when `key` was seen (and not yet forgotten). */
  has(key: string): boolean {
    // a frame's key is looked up before its plugins run and added at its commit: keep the
    // fingerprint for the add, one SHA-256 less per frame (~0.8 µs of ~5 per key, measured;
    // bounded: entries of frames that never commit are dropped en bloc)
    if (this.looked.size >= MAX_LOOKED_UP) this.looked.clear();
    const fp = fingerprint(key);
    this.looked.set(key, fp);
    return this.known.has(fp);
  }

  /**
   * Remember `key` as handled at `now`; false when it was already known (it keeps its time). One
   * call answers both "seen?" and "remember". Inside a transaction, run that transaction through
   * {@link track}.
   */
  add(key: string, now: number): boolean {
    const fp = this.looked.get(key) ?? fingerprint(key);
    this.looked.delete(key);
    if (this.known.has(fp)) return false;
    // stamped on the keys' clock, so ages stay comparable across a step and a restart
    this.insertStmt.run(key, this.clock.at(now)); // throws before memory changes if the write fails
    this.known.add(fp);
    if (this.db.inTransaction) this.pending.push(fp);
    return true;
  }

  /**
   * Run `transaction` (a better-sqlite3 transaction that may call {@link add}), keeping memory in
   * step with how it ends: when it throws it was rolled back, and so are the keys it added.
   */
  track<T>(transaction: () => T): T {
    try {
      return transaction();
    } catch (err) {
      for (const fp of this.pending) this.known.delete(fp);
      throw err;
    } finally {
      this.pending = [];
    }
  }

  /**
   * Forget keys older than `maxAgeMs`, then the earliest arrivals beyond `maxEntries`, at most
   * `batch` of each (a bounded statement keeps the event loop responsive); returns how many. The
   * count bound goes by arrival (seq), not by `created_at`: after the wall clock stepped back,
   * the keys taken since carry earlier times than older ones and would go first. Ages are on the
   * keys' clock (`now` less the skew).
   */
  prune(now: number, maxAgeMs: number, maxEntries: number, batch: number): number {
    let removed = this.forget(this.pruneAgeStmt.all(this.clock.at(now) - maxAgeMs, batch));
    const excess = this.known.size - maxEntries;
    if (excess > 0) removed += this.forget(this.pruneCountStmt.all(Math.min(excess, batch)));
    return removed;
  }

  /** Drop deleted keys from memory (after their rows are gone); returns how many. */
  private forget(keys: readonly string[]): number {
    for (const key of keys) this.known.delete(fingerprint(key));
    return keys.length;
  }
}

/** The newest dedupe key's time in `db`, null when there is none. */
export function newestDedupeKey(db: BetterSqlite3.Database): number | null {
  return db.prepare<[], number | null>('SELECT MAX(created_at) FROM inbox_dedupe_keys').pluck().get() ?? null;
}
