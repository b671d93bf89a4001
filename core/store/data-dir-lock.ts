/**
 * One sidecar per data directory. Two processes on one store would each load the dedupe keys and
 * queue every pending delivery at start, so both would deliver the same events under different
 * ids, which the agent cannot dedupe. The lock is a small SQLite file, `<dataDir>/sidecar.lock`,
 * held in an EXCLUSIVE transaction for as long as the sidecar runs: SQLite locks it with the
 * operating system's file locks, which end with the process however it ends, so a crashed
 * sidecar never leaves a stale lock behind (a restart after `kill -9` starts at once).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { errorMessage, RelayError } from '../errors.js';
import { checkWritable, DATABASE_FILE, storeFiles } from './database.js';
import { privateFilesProblem } from './private-files.js';

/** Name of the lock file inside the data directory. */
export const LOCK_FILE = 'sidecar.lock';

/**
 * The files SQLite opens in the data directory (a hot rollback journal is replayed into its
 * database at open), checked before the lock or the store is opened.
 */
export const PRIVATE_FILES = [
  ...storeFiles(DATABASE_FILE),
  `${DATABASE_FILE}-journal`,
  LOCK_FILE,
  `${LOCK_FILE}-journal`,
];

/**
 * Every lock taken and not released. better-sqlite3 closes a connection its object no longer
 * reaches when it is garbage collected, which would end the EXCLUSIVE transaction: a holder that
 * dropped its lock object (a test's child process did; so could an embedder that drops a sidecar
 * without stopping it) lost the lock at the next GC, under load within seconds, and a second
 * sidecar could take the directory. A lock ends with `release()` or the process, never with GC.
 */
const held = new Set<DataDirLock>();

/** A held data-directory lock. */
export class DataDirLock {
  private constructor(private db: BetterSqlite3.Database | undefined) {
    held.add(this);
  }

  /**
   * Take the lock of `dataDir` (created with mode 0700 when absent), or throw
   * `CORE_ERR_STORE_OPEN_FAILED` at once when another process holds it: no waiting, the
   * message says what to do.
   */
  static acquire(dataDir: string): DataDirLock {
    const file = join(dataDir, LOCK_FILE);
    let db: BetterSqlite3.Database | undefined;
    try {
      // mkdir alone would say "EEXIST: file already exists"
      if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) {
        throw new Error(`${dataDir} is not a directory; point SIDECAR_DATA_DIR at a directory`);
      }
      // before anything is created in it: a directory or store file other users control
      const unsafe = privateFilesProblem(dataDir, PRIVATE_FILES);
      if (unsafe) throw new Error(`${unsafe.problem}; ${unsafe.fix}`);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      // a directory or lock file another user owns (a first start as root) names itself
      checkWritable(file);
      // timeout 0: a held lock is an answer, not something to wait for
      db = new BetterSqlite3(file, { timeout: 0 });
      db.exec('BEGIN EXCLUSIVE');
      return new DataDirLock(db);
    } catch (err) {
      db?.close();
      if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
        throw new RelayError(
          'CORE_ERR_STORE_OPEN_FAILED',
          `another relay-sidecar is running on the data directory ${dataDir} (it holds ${file}); ` +
            'stop it, or give this one its own SIDECAR_DATA_DIR',
        );
      }
      throw new RelayError(
        'CORE_ERR_STORE_OPEN_FAILED',
        `cannot lock the data directory ${dataDir} (${file}): ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  /** Let another sidecar take the data directory. Idempotent. */
  release(): void {
    const db = this.db;
    this.db = undefined;
    held.delete(this);
    db?.close();
  }
}
