/**
 * The embedded durable store: one SQLite file (`<dataDir>/sidecar.db`) opened by the main thread
 * and, with their own connections, by every pool worker. WAL mode lets readers and one writer
 * work at once across threads; `busy_timeout` absorbs the short write-lock waits between them.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { errorMessage, RelayError } from '../errors.js';

/** A better-sqlite3 connection. */
export type Database = BetterSqlite3.Database;

/** Name of the database file inside the data directory. */
export const DATABASE_FILE = 'sidecar.db';

/** How long a connection waits for another connection's write lock before SQLITE_BUSY, ms. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * WAL pages after which a connection checkpoints inside its own commit (~160 MiB). Only a
 * fallback, well above the {@link Checkpointer} thread's restart threshold (16 000 pages), so it
 * applies only when that thread is not running.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 40_000;

/** The WAL file is truncated back to at most this size after a checkpoint resets it, bytes. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Page cache of a connection that does not say otherwise, MiB. SQLite as better-sqlite3 builds it
 * caches up to 16 MiB per connection; the plugin stores and the checkpointer touch far less, and
 * every connection's cache is process memory (benchmarks: memory).
 */
export const DEFAULT_PAGE_CACHE_MIB = 2;

/** The path of the shared database file for a data directory. */
export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE);
}

/** How a store may be opened. */
export interface OpenOptions {
  /**
   * Accept a file this user may only read (SQLite then opens it read-only). Only for readers that
   * write nothing; everyone else is refused at open rather than at the first commit.
   */
  readonly readOnly?: boolean;
  /**
   * How long a statement waits for a lock held elsewhere, ms, from the open's own statements on
   * (default {@link BUSY_TIMEOUT_MS}): shorter for a thread that must be able to end soon.
   */
  readonly busyTimeoutMs?: number;
  /**
   * A further connection to a store this process has opened and set up already (the checkpoint
   * thread's): it sets no file-wide setting. `auto_vacuum`'s pragma takes the write lock even
   * where it changes nothing, so with a short busy timeout the open failed under any commit. It
   * creates nothing either (no directory, no file: a store gone is a failure): one opened after
   * its owner had gone and its directory was removed made a new, empty store there.
   */
  readonly secondary?: boolean;
}

/**
 * Open (creating when absent, unless `secondary`) the database at `file` with the sidecar's pragmas:
 * WAL journal, `synchronous=NORMAL` (durable across process crashes; a power loss may lose the
 * last transactions, never corrupt), a 5 s busy timeout, foreign keys on, and checkpoints left
 * to the {@link Checkpointer} thread (a connection checkpoints itself only past
 * {@link FALLBACK_AUTOCHECKPOINT_PAGES}), a page cache of `pageCacheMib`, and, for a new file,
 * incremental auto-vacuum (free pages given back by the checkpoint thread: free-pages.ts). The
 * parent directory is created with mode 0700: the store holds conversation state. Throws
 * `CORE_ERR_STORE_OPEN_FAILED`.
 */
export function openDatabase(
  file: string,
  pageCacheMib = DEFAULT_PAGE_CACHE_MIB,
  options: OpenOptions = {},
): Database {
  let db: Database | undefined;
  try {
    if (file !== ':memory:' && !options.secondary) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // what the writability check (its directory gone) and SQLite ("unable to open") would say
    // instead misled: a further connection's store is gone, not locked away by owner or mode
    if (options.secondary && file !== ':memory:' && !existsSync(file)) throw storeGone(file);
    // SQLite opens a file it may not write read-only, silently: every commit would fail later
    if (file !== ':memory:' && !options.readOnly) checkWritable(file);
    const busyMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
    db = new BetterSqlite3(file, { timeout: busyMs, fileMustExist: options.secondary === true });
    // before anything writes the header (journal_mode = WAL does): on a new file it takes effect,
    // on an existing one it changes nothing until a VACUUM (free-pages.ts)
    if (!options.readOnly && !options.secondary) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${busyMs}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    // a negative cache_size is in KiB
    db.pragma(`cache_size = -${Math.max(1, Math.round(pageCacheMib * 1024))}`);
    return db;
  } catch (err) {
    // a set-up step that fails (a full disk refuses the WAL) must not leave the file open
    db?.close();
    throw storeOpenFailed(`the store ${file}`, err);
  }
}

/** Why a further connection (`secondary`) finds no store at `file`, and what to do. */
function storeGone(file: string): Error {
  return new Error(
    `${file} is not there: it was removed or moved after this process opened it; put the data ` +
      'directory back, or restart the sidecar (it then starts on an empty store)',
  );
}

/**
 * `CORE_ERR_STORE_OPEN_FAILED` for a failure to open or set up `what` (`the store <file>`):
 * SQLite's reason, then what to do when SQLite's words alone do not say it (another process
 * holding the lock, a damaged file). A `RelayError` is passed through as it is.
 */
export function storeOpenFailed(what: string, err: unknown): RelayError {
  if (err instanceof RelayError) return err;
  const hint = storeFailureHint(err);
  return new RelayError(
    'CORE_ERR_STORE_OPEN_FAILED',
    `cannot open ${what}: ${errorMessage(err)}${hint ? `; ${hint}` : ''}`,
    { cause: err },
  );
}

/** What to do about a SQLite failure of the store, by its code; undefined when the reason says it. */
export function storeFailureHint(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return (
      `another process holds its write lock for longer than ${BUSY_TIMEOUT_MS / 1000} s ` +
      '(a sqlite3 shell in a transaction, a backup or copy tool): end it, then start again'
    );
  }
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC') {
    return 'the file system holding the data directory is full: free space there, or move SIDECAR_DATA_DIR';
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return (
      'the file is damaged or not a relay-sidecar store: stop, move the data directory aside ' +
      '(keep it: sqlite3 .recover may save its rows) and start on a backup or an empty one; ' +
      'what it held and had not delivered is then not delivered (docs/operations.md, a damaged store)'
    );
  }
  return undefined;
}

/**
 * SQLite result codes (extended ones included, by prefix) that say the store cannot take a write
 * now, whatever is written: a full disk, an I/O error, the write lock not granted within the busy
 * timeout, a store that became read-only, no memory. The same write may succeed later; a
 * constraint, a malformed statement or a corrupt file will not.
 */
const UNAVAILABLE_CODES = [
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_NOMEM',
  'SQLITE_PROTOCOL',
];

/**
 * True when `err` is a SQLite failure of the store itself, worth retrying ({@link UNAVAILABLE_CODES}),
 * or the inbox refusing commits into a store file replaced while running (`CORE_ERR_STORE_REPLACED`:
 * held like the rest, though only a restart ends it).
 */
export function isStoreUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'CORE_ERR_STORE_REPLACED') return true;
  return typeof code === 'string' && UNAVAILABLE_CODES.some((c) => code === c || code.startsWith(`${c}_`));
}

/** The store file and the WAL files SQLite keeps beside it. */
export function storeFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`];
}

/**
 * Throw unless this user may write the store, its WAL files and their directory (also the
 * data-directory lock's check: SQLite itself only says "unable to open database file").
 */
export function checkWritable(file: string): void {
  // the directory always (SQLite creates the WAL files there); the files when they exist
  const files = storeFiles(file).filter((path) => existsSync(path));
  for (const path of [dirname(file), ...files]) {
    try {
      accessSync(path, constants.W_OK);
    } catch (err) {
      // owner and mode cannot help on a file system mounted read-only (a container's image layer)
      if ((err as NodeJS.ErrnoException).code === 'EROFS') {
        throw new Error(
          `${path} is on a read-only file system; set SIDECAR_DATA_DIR to a writable one (a volume)`,
        );
      }
      throw new Error(`${path} is not writable by this user; fix its owner or mode, or run as its owner`);
    }
  }
}

/**
 * Apply the not-yet-applied steps of one component's migration list, in order, each step once.
 * `name` identifies the component (`kv`, `inbox`); `steps[i]` is the SQL of version `i + 1`.
 * Steps are append-only: never edit or reorder a released step, add a new one.
 * Runs in an IMMEDIATE transaction so concurrent openers (main thread and workers) serialise.
 * Returns the number of steps applied now. Throws `CORE_ERR_STORE_SCHEMA_TOO_NEW`, changing
 * nothing, when the store records more steps than `steps` holds: a newer build migrated it, and
 * this one would read and write tables whose shape it does not know (docs/operations.md, upgrades).
 */
export function migrate(db: Database, name: string, steps: readonly string[]): number {
  db.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       name TEXT PRIMARY KEY,
       version INTEGER NOT NULL,
       applied_at INTEGER NOT NULL
     )`,
  );
  const current = db.prepare('SELECT version FROM schema_migrations WHERE name = ?');
  const record = db.prepare(
    `INSERT INTO schema_migrations (name, version, applied_at) VALUES (?, ?, ?)
     ON CONFLICT(name) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at`,
  );
  const apply = db.transaction((): number => {
    // read inside the transaction: another connection may have migrated meanwhile
    const row = current.get(name) as { version: number } | undefined;
    const from = row?.version ?? 0;
    if (from > steps.length) throw schemaTooNew(db.name, name, from, steps.length);
    for (let version = from + 1; version <= steps.length; version++) {
      db.exec(steps[version - 1] as string);
    }
    if (steps.length > from) record.run(name, steps.length, Date.now());
    return Math.max(0, steps.length - from);
  });
  return apply.immediate();
}

/** Why a store whose `name` schema is at `found` is too new for a build that knows up to `known` (also doctor's line). */
export function schemaTooNewReason(name: string, found: number, known: number): string {
  return `its "${name}" schema is at version ${found}; this build knows versions up to ${known}`;
}

/** The refusal of a store whose `name` schema a newer build migrated to `found` (this one knows `known`). */
function schemaTooNew(file: string, name: string, found: number, known: number): RelayError {
  return new RelayError(
    'CORE_ERR_STORE_SCHEMA_TOO_NEW',
    `the store ${file}: ${schemaTooNewReason(name, found, known)}. ` +
      'A newer relay-sidecar migrated it and this older one cannot use it safely: run that newer version ' +
      '(or a later one) again, or restore the copy of the data directory taken before the upgrade ' +
      '(docs/operations.md, upgrades and rollbacks)',
    { details: { component: name, found, known } },
  );
}
