/**
 * The inbox's own tables in the shared SQLite file, applied with the store's `migrate` under the
 * name `inbox`. Append new steps at the end; never edit a step that has shipped.
 */

/** Migration steps of the inbox schema, in order. */
export const INBOX_MIGRATIONS: readonly string[] = [
  `
  -- One row per delivery. seq (the rowid) is the commit order: per-session FIFO follows it.
  -- Rows stay small (the envelope lives apart) because every attempt rewrites its row, and the
  -- columns carry no CHECK / NOT NULL constraints: they made each update ~3x dearer (measured);
  -- only inbox code writes here, with typed statements. type: 'message' | 'interrupt';
  -- state: 'pending' | 'delivered' | 'dead'.
  CREATE TABLE inbox_events (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    type        TEXT,
    session_key TEXT,
    state       TEXT,
    attempt     INTEGER DEFAULT 0,
    rejections  INTEGER DEFAULT 0,
    created_at  INTEGER,
    updated_at  INTEGER
  );
  CREATE INDEX inbox_events_state_seq ON inbox_events (state, seq);

  -- The envelope of each delivery (attempt 0; stamped when sent), keyed by the event's seq.
  CREATE TABLE inbox_envelopes (
    seq      INTEGER PRIMARY KEY,
    envelope TEXT    NOT NULL
  );

  -- Dedupe keys of committed (or dead-lettered) frames and events, bounded by age and count.
  CREATE TABLE inbox_dedupe (
    key        TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX inbox_dedupe_created ON inbox_dedupe (created_at);

  -- Transient failures per bufferId (plugin crash, timeout, saturated pool) before quarantine.
  CREATE TABLE inbox_attempts (
    buffer_id  TEXT    PRIMARY KEY,
    attempts   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Frames and deliveries that will not go through on their own; listed and replayable.
  CREATE TABLE inbox_dead_letters (
    id               TEXT    PRIMARY KEY,
    kind             TEXT    NOT NULL CHECK (kind IN ('frame', 'delivery')),
    code             TEXT    NOT NULL,
    message          TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    replay_requested INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX inbox_dead_letters_created ON inbox_dead_letters (created_at);
  `,
  `
  -- Partial indexes instead of (state, seq): the pending queue in commit order, and delivered
  -- rows by last touch, so pruning finds what is due without walking every delivered row (a
  -- whole-table walk each minute stalled the read loop for seconds at ~1 GB: benchmarks F6).
  -- The row moves between them exactly as it moved within the old index: no extra writes.
  DROP INDEX inbox_events_state_seq;
  CREATE INDEX inbox_events_pending ON inbox_events (seq) WHERE state = 'pending';
  CREATE INDEX inbox_events_delivered ON inbox_events (updated_at) WHERE state = 'delivered';
  -- dead letters flagged for replay (polled every few seconds) without a scan
  CREATE INDEX inbox_dead_letters_replay ON inbox_dead_letters (created_at) WHERE replay_requested = 1;
  `,
  `
  -- Dedupe keys in arrival order (seq): lookups are answered from memory (a fingerprint set
  -- loaded at start), so nothing indexes the key, and remembering a key writes the right edge of
  -- two B-trees instead of a random leaf of a keyed one (benchmarks F11). Pruning goes by time.
  CREATE TABLE inbox_dedupe_keys (
    seq        INTEGER PRIMARY KEY,
    key        TEXT    NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX inbox_dedupe_keys_created ON inbox_dedupe_keys (created_at);
  INSERT INTO inbox_dedupe_keys (key, created_at)
    SELECT key, created_at FROM inbox_dedupe ORDER BY created_at, key;
  DROP TABLE inbox_dedupe;
  `,
  `
  -- Push response actions ({"actions": [...]}) waiting to run: written in the transaction that
  -- marks their delivery delivered, run in seq order per session, deleted once settled. An
  -- action's row gets started_at (durably) before a try whose outbound frame may go out: one
  -- found started at start-up may have been applied, so it is reported and never run again.
  CREATE TABLE inbox_outbox (
    seq         INTEGER PRIMARY KEY,
    session_key TEXT    NOT NULL,
    delivery_id TEXT    NOT NULL,
    idx         INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    started_at  INTEGER
  );
  CREATE INDEX inbox_outbox_session ON inbox_outbox (session_key, seq);
  `,
];
