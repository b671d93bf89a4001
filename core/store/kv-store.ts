/**
 * The namespaced key-value store with TTL behind `ctx.store` (spec/plugins.md, "State").
 * One table shared by every plugin (namespace = plugin name), the main thread and all workers;
 * each thread holds its own connection to the same SQLite file. Its periodic upkeep (expired rows,
 * the per-plugin key cap) is `KvUpkeep`'s.
 */

import type { PluginStore } from '../plugin-host/define-plugin.js';
import { type Database, migrate } from './database.js';
import { KV_MIGRATIONS } from './kv-migrations.js';
import { checkTtl, namespaceView } from './plugin-store-view.js';
import { rememberWrite } from './remember-rule.js';
import { directCalls, type StoreCalls } from './store-calls.js';
import { checkKeySize, checkValueSize, DEFAULT_STORE_LIMITS, type StoreLimits } from './store-limits.js';

/**
 * How long {@link KvStore.remember} trusts the row its own connection last read or wrote for a
 * key instead of reading it again, ms. A hot key (a chat's scope memory) is remembered on every
 * event; its read was ~2.3 µs of the plugin worker's ~9 per inbound chain (benchmarks, F24).
 * Another connection's write of the same key is seen at the first call after this.
 */
export const REMEMBER_TRUST_MS = 1_000;

/** Most keys whose last known row one connection keeps for `remember` (oldest dropped first). */
export const REMEMBER_KNOWN_MAX = 4_096;

/**
 * Most writes one {@link KvStore.hold} keeps before committing them early (still one
 * transaction per this many), so a hook that writes in a loop cannot grow the buffer unbounded.
 */
export const HELD_WRITES_MAX = 4_096;

/** A write held until {@link KvStore.release}: a row to upsert, or `json` undefined to delete. */
interface HeldWrite {
  readonly ns: string;
  readonly key: string;
  readonly json: string | undefined;
  readonly expires: number | null;
}

/** Held writes that could not be committed: who made them, and why. */
export interface ReleaseFailure<O> {
  readonly owners: readonly O[];
  readonly error: unknown;
}

/** A stored row: JSON text and expiry (epoch ms, null = none). */
interface StoredRow {
  readonly value: string;
  readonly expires_at: number | null;
}

/** A row as `remember` last saw it on this connection, and when (epoch ms). */
interface KnownRow extends StoredRow {
  readonly at: number;
}

/** The key of `ns`/`key` among the rows `remember` knows (a namespace, a plugin name, has no NUL). */
function knownId(ns: string, key: string): string {
  return `${ns}\u0000${key}`;
}

/** The shared store. Create one per connection; namespaces are cheap views. */
export class KvStore {
  private readonly selectStmt;
  private readonly upsertStmt;
  private readonly deleteStmt;
  private readonly commitHeldTx;
  /** What `remember` last read or wrote per `ns\0key`, in the order last seen. */
  private readonly known = new Map<string, KnownRow>();
  /** While writes are held (see {@link hold}): the latest per `ns\0key`, and who wrote them. */
  private held: { writes: Map<string, HeldWrite>; owners: Set<unknown>; owner: () => unknown } | undefined;
  /** Owners of held writes a commit lost since {@link hold}, and the first error. */
  private lost: { owners: Set<unknown>; error: unknown } | undefined;

  /**
   * @param db an open connection (see `openDatabase`); the `kv` table is migrated here.
   * @param now epoch-ms clock, injectable for tests; default `Date.now`.
   * @param limits the size limits of a write (`config.store`); default the config's defaults.
   * @param calls how its reads and writes reach SQLite: a pool worker's gated and retried
   *   (store-calls.ts); default as they come.
   */
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
    readonly limits: StoreLimits = DEFAULT_STORE_LIMITS,
    private readonly calls: StoreCalls = directCalls,
  ) {
    migrate(db, 'kv', KV_MIGRATIONS);
    // statements prepared once and shared by every namespace
    this.selectStmt = db.prepare<[string, string], StoredRow>(
      'SELECT value, expires_at FROM kv WHERE ns = ? AND key = ?',
    );
    this.upsertStmt = db.prepare<[string, string, string, number | null]>(
      `INSERT INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    );
    this.deleteStmt = db.prepare<[string, string]>('DELETE FROM kv WHERE ns = ? AND key = ?');
    this.commitHeldTx = db.transaction((writes: Iterable<HeldWrite>) => {
      for (const w of writes) this.put(w.ns, w.key, w.json, w.expires);
    });
  }

  /** The value under `ns`/`key`, or undefined when absent or expired. */
  get<T = unknown>(ns: string, key: string): T | undefined {
    const row = this.lookup(ns, key);
    if (!row) return undefined;
    // expired rows stay until swept; reads never write (no lock contention on the read path)
    if (row.expires_at !== null && row.expires_at <= this.now()) return undefined;
    return JSON.parse(row.value) as T;
  }

  /**
   * Store a JSON-serialisable value; `ttlMs` omitted ⇒ kept until deleted. `undefined` deletes.
   * Throws TypeError for values JSON cannot encode, RangeError for a non-positive `ttlMs` and a
   * RelayError for a key or value past {@link limits}.
   */
  set(ns: string, key: string, value: unknown, ttlMs?: number): void {
    checkTtl(ttlMs);
    this.setJson(ns, key, JSON.stringify(value), ttlMs);
  }

  /** {@link set} of a value already encoded (`undefined` deletes): the plugin view checks and encodes once. */
  setEncoded(ns: string, key: string, json: string | undefined, ttlMs?: number): void {
    checkTtl(ttlMs);
    this.setJson(ns, key, json, ttlMs);
  }

  /** {@link set}'s write, the TTL checked. */
  private setJson(ns: string, key: string, json: string | undefined, ttlMs: number | undefined): void {
    if (json === undefined) {
      this.delete(ns, key);
      return;
    }
    this.checkSize(key, json);
    const now = this.now();
    const expires = ttlMs === undefined ? null : Math.ceil(now + ttlMs);
    this.write(ns, key, json, expires);
    this.note(knownId(ns, key), json, expires, now);
  }

  /**
   * {@link PluginStore.remember}: write only when the value changed or the stored one would
   * expire less than `ttlMs` from now, with a slack past `ttlMs` ({@link rememberWrite}). A read
   * is cheap; a write takes the file's write lock and invalidates every other connection's page
   * cache, which is what made per-event plugin writes dear (benchmarks F1). What this connection
   * read or wrote for the key in the last {@link REMEMBER_TRUST_MS} stands in for the read.
   */
  remember(ns: string, key: string, value: unknown, ttlMs: number): boolean {
    checkTtl(ttlMs);
    return this.putRemembered(ns, key, JSON.stringify(value), ttlMs);
  }

  /** {@link remember} of a value already encoded (`undefined` deletes). */
  rememberEncoded(ns: string, key: string, json: string | undefined, ttlMs: number): boolean {
    checkTtl(ttlMs);
    return this.putRemembered(ns, key, json, ttlMs);
  }

  /** {@link remember}'s write when due, the TTL checked. */
  private putRemembered(ns: string, key: string, json: string | undefined, ttlMs: number): boolean {
    if (json === undefined) {
      this.delete(ns, key);
      return true;
    }
    this.checkSize(key, json);
    const now = this.now();
    const id = knownId(ns, key);
    const known = this.known.get(id);
    const stored = known && now - known.at < REMEMBER_TRUST_MS ? known : this.read(id, ns, key, now);
    const expires = rememberWrite(stored, json, ttlMs, now);
    if (expires === undefined) return false;
    this.write(ns, key, json, expires);
    this.note(id, json, expires, now);
    return true;
  }

  /** Refuse a write past {@link limits}, before it is held or written: every write comes here. */
  private checkSize(key: string, json: string): void {
    checkKeySize(key, this.limits);
    checkValueSize(key, json, this.limits);
  }

  /** Remove `ns`/`key` (no-op when absent). */
  delete(ns: string, key: string): void {
    this.write(ns, key, undefined, null);
    this.known.delete(knownId(ns, key));
  }

  /**
   * Hold this connection's writes from now until {@link release}, which commits them in one
   * transaction: a plugin worker holds them for each task, so a batch of chains that each write
   * (a group chat's scope memory changes with every speaker) takes the write lock once instead of
   * once per write. Reads on this connection see held writes; other connections see them at the
   * release. `owner` names who writes (the chain running), for {@link release} to report.
   * Holding already: only the owner changes.
   */
  hold(owner: () => unknown): void {
    if (this.held) this.held.owner = owner;
    else this.held = { writes: new Map(), owners: new Set(), owner };
  }

  /**
   * Commit what is held now and keep holding. Never throws: a failure is reported by
   * {@link release}, like one of its own.
   */
  flush(): void {
    this.commitHeld();
  }

  /**
   * Commit the held writes and stop holding. Never throws: when a commit failed (the write lock
   * not granted within the busy timeout, a full disk) the writes are gone and the answer names
   * their owners and the error, for the caller to fail their chains as if the write had thrown.
   */
  release<O>(): ReleaseFailure<O> | undefined {
    if (!this.held) return undefined;
    this.commitHeld();
    this.held = undefined;
    const lost = this.lost;
    this.lost = undefined;
    return lost ? { owners: [...lost.owners] as O[], error: lost.error } : undefined;
  }

  /** Write now, or hold the write (committing the held ones early past {@link HELD_WRITES_MAX}). */
  private write(ns: string, key: string, json: string | undefined, expires: number | null): void {
    const held = this.held;
    if (!held) {
      this.calls.run(() => this.put(ns, key, json, expires));
      return;
    }
    // the latest write of a key replaces an earlier one; all of them commit in one transaction
    held.writes.set(knownId(ns, key), { ns, key, json, expires });
    held.owners.add(held.owner());
    if (held.writes.size >= HELD_WRITES_MAX) this.commitHeld();
  }

  /** Upsert the row, or delete it when `json` is undefined. */
  private put(ns: string, key: string, json: string | undefined, expires: number | null): void {
    if (json === undefined) this.deleteStmt.run(ns, key);
    else this.upsertStmt.run(ns, key, json, expires);
  }

  /** Commit what is held in one transaction; a failure is recorded for {@link release}. */
  private commitHeld(): void {
    const held = this.held;
    if (!held || held.writes.size === 0) return;
    try {
      // IMMEDIATE: take the write lock first (waiting up to the busy timeout), never upgrade a
      // read snapshot another connection's commit may have made stale; an attempt rolls back whole
      this.calls.run(() => this.commitHeldTx.immediate(held.writes.values()));
    } catch (error) {
      // this connection no longer knows what the file holds for these keys
      for (const id of held.writes.keys()) this.known.delete(id);
      this.lost ??= { owners: new Set(), error };
      for (const owner of held.owners) this.lost.owners.add(owner);
    }
    held.writes.clear();
    held.owners.clear();
  }

  /** The row of `ns`/`key` as this connection sees it: a held write first, else the file's. */
  private lookup(ns: string, key: string, id?: string): StoredRow | undefined {
    const held = this.held?.writes.get(id ?? knownId(ns, key));
    if (!held) return this.calls.run(() => this.selectStmt.get(ns, key));
    return held.json === undefined ? undefined : { value: held.json, expires_at: held.expires };
  }

  /** Read `ns`/`key` for `remember`, noting what was found. */
  private read(id: string, ns: string, key: string, now: number): KnownRow | undefined {
    const row = this.lookup(ns, key, id);
    if (!row) {
      this.known.delete(id);
      return undefined;
    }
    return this.note(id, row.value, row.expires_at, now);
  }

  /** Note the row this connection now knows for `id` (most recent last; the oldest dropped). */
  private note(id: string, value: string, expires: number | null, now: number): KnownRow {
    const row: KnownRow = { value, expires_at: expires, at: now };
    this.known.delete(id);
    this.known.set(id, row);
    if (this.known.size > REMEMBER_KNOWN_MAX) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
    return row;
  }

  /** A {@link PluginStore} view of one namespace. */
  namespace(ns: string): PluginStore {
    return namespaceView(() => this, ns);
  }

  /** The connection this store uses (owned by the caller, who closes it). */
  get database(): Database {
    return this.db;
  }
}
