/**
 * The `kv` component's tables (the plugin stores, `ctx.store`) in the shared SQLite file, applied
 * with the store's `migrate` under the name `kv`. Append new steps at the end; never edit a step
 * that has shipped.
 */

/** Schema steps of the `kv` component (append-only; see `migrate`). */
export const KV_MIGRATIONS: readonly string[] = [
  // value holds JSON text; TEXT affinity keeps "123" from being coerced to a number.
  // expires_at is epoch ms, NULL = no expiry.
  `CREATE TABLE kv (
     ns TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     expires_at INTEGER,
     PRIMARY KEY (ns, key)
   ) WITHOUT ROWID;
   CREATE INDEX kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL;`,
  // Keys per namespace, for the per-plugin key cap (store.maxKeysPerPlugin): kept by triggers in
  // the transaction of every write, on every connection, so the upkeep reads a few rows instead of
  // counting the table (a count walks every row with its value: ~40 ms per 100 000 keys, on the
  // main thread). Only a new key or a deleted one touches it: an upsert of an existing key takes
  // its UPDATE path, which fires no INSERT trigger, so a per-event `remember` costs nothing more.
  `CREATE TABLE kv_key_counts (
     ns TEXT PRIMARY KEY,
     n INTEGER NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO kv_key_counts (ns, n) SELECT ns, count(*) FROM kv GROUP BY ns;
   CREATE TRIGGER kv_key_added AFTER INSERT ON kv BEGIN
     INSERT INTO kv_key_counts (ns, n) VALUES (new.ns, 1) ON CONFLICT (ns) DO UPDATE SET n = n + 1;
   END;
   CREATE TRIGGER kv_key_removed AFTER DELETE ON kv BEGIN
     UPDATE kv_key_counts SET n = n - 1 WHERE ns = old.ns;
   END;`,
];
