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
  // Bytes per namespace too, for the per-plugin byte cap (store.maxBytesPerPlugin): UTF-8 bytes
  // of each key and of its value's JSON text (octet_length: the TEXT's size, read without
  // decoding it), counted from what the store holds when this step runs. An upsert that rewrites
  // an existing key with a value of another size fires the UPDATE trigger (a row update in the
  // same commit); one of the same size (a `remember` refreshing the expiry of an unchanged value)
  // stops at its WHEN. Keys and namespaces are never updated in place: they are the primary key.
  `ALTER TABLE kv_key_counts ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
   UPDATE kv_key_counts SET bytes = coalesce(
     (SELECT sum(octet_length(key) + octet_length(value)) FROM kv WHERE kv.ns = kv_key_counts.ns), 0);
   DROP TRIGGER kv_key_added;
   DROP TRIGGER kv_key_removed;
   CREATE TRIGGER kv_key_added AFTER INSERT ON kv BEGIN
     INSERT INTO kv_key_counts (ns, n, bytes) VALUES (new.ns, 1, octet_length(new.key) + octet_length(new.value))
     ON CONFLICT (ns) DO UPDATE SET n = n + 1, bytes = bytes + excluded.bytes;
   END;
   CREATE TRIGGER kv_key_removed AFTER DELETE ON kv BEGIN
     UPDATE kv_key_counts SET n = n - 1, bytes = bytes - octet_length(old.key) - octet_length(old.value)
     WHERE ns = old.ns;
   END;
   CREATE TRIGGER kv_value_resized AFTER UPDATE OF value ON kv
   WHEN octet_length(new.value) <> octet_length(old.value) BEGIN
     UPDATE kv_key_counts SET bytes = bytes + octet_length(new.value) - octet_length(old.value)
     WHERE ns = new.ns;
   END;`,
];
