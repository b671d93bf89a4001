/**
 * The store check of `relay-sidecar doctor`: the store file, when there is one, opens, was not
 * migrated by a newer build than this one (`run` would refuse it), and passes SQLite's
 * `quick_check` (damage deep in the file, which `run` finds only when it reads the page).
 *
 * Read only, creating no file: SQLite opens a WAL store (even read-only) by creating its `-wal`
 * and `-shm` files, which a doctor run as root would leave behind owned by root, and `run` would
 * then refuse them. So the file is opened in place only when both exist already (a sidecar runs,
 * or one crashed: the WAL holds pages the file does not have yet); otherwise its bytes are read
 * into memory, up to {@link MAX_CHECKED_BYTES}, and checked there.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { errorMessage } from '../../core/errors.js';
import { databasePath, schemaTooNewReason, storeFailureHint } from '../../core/store/database.js';
import { pageCounts, RECLAIM_FLOOR_PAGES } from '../../core/store/free-pages.js';
import { KV_MIGRATIONS } from '../../core/store/kv-migrations.js';
import { INBOX_MIGRATIONS } from '../inbox/inbox-migrations.js';
import { CONVERT_MAX_LIVE_BYTES } from '../inbox/maintenance.js';
import { type CheckResult, fail, ok, warn } from './doctor-checks.js';

/** The schema versions this build knows, by component. */
const KNOWN: Readonly<Record<string, number>> = { inbox: INBOX_MIGRATIONS.length, kv: KV_MIGRATIONS.length };

/** Largest store file (without WAL files) read into memory to be checked, bytes. */
export const MAX_CHECKED_BYTES = 256 * 1024 * 1024;

const NAME = 'store';
const DAMAGED_FIX =
  'stop the sidecar, move the data directory aside and start on a backup or an empty one ' +
  '(docs/operations.md, a damaged store)';

/** Check the store of `dataDir` (see the module comment). */
export function checkStore(dataDir: string): CheckResult {
  const file = databasePath(dataDir);
  if (!existsSync(file)) return ok(NAME, `none yet in ${dataDir} (created at the first start)`);
  const size = statSync(file).size;
  const mib = toMib(size);
  const inPlace = existsSync(`${file}-wal`) && existsSync(`${file}-shm`);
  if (!inPlace && size > MAX_CHECKED_BYTES) {
    return ok(
      NAME,
      `${file} (${mib}) not checked: larger than ${MAX_CHECKED_BYTES / 1024 / 1024} MiB, what doctor reads into memory; with the sidecar stopped, sqlite3 ${file} 'PRAGMA quick_check' checks it`,
    );
  }
  let db: BetterSqlite3.Database | undefined;
  try {
    db = inPlace
      ? new BetterSqlite3(file, { readonly: true, fileMustExist: true, timeout: 1_000 })
      : new BetterSqlite3(walFree(readFileSync(file)));
    const versions = recordedVersions(db);
    for (const [name, found] of versions) {
      const known = KNOWN[name];
      if (known !== undefined && found > known) {
        return fail(
          NAME,
          `${file}: ${schemaTooNewReason(name, found, known)}`,
          'run the newer relay-sidecar that migrated it, or restore the copy of the data directory taken before the upgrade (docs/operations.md, upgrades and rollbacks)',
        );
      }
    }
    const schema = [...versions].map(([name, version]) => `${name} ${version}`).join(', ') || 'none yet';
    // every page read once: seconds for a store of gigabytes
    const [first] = db.pragma('quick_check(1)') as { quick_check: string }[];
    const verdict = first?.quick_check ?? 'no answer';
    if (verdict !== 'ok') return fail(NAME, `${file} is damaged: ${oneLine(verdict)}`, DAMAGED_FIX);
    const { free, pageSize, autoVacuum } = pageCounts(db);
    const intact = `${file}: intact (quick_check), schema ${schema} (${mib}, ${toMib(free * pageSize)} free)`;
    // an older build's store keeps its free pages in the file (free-pages.ts)
    if (autoVacuum !== 2 && free > RECLAIM_FLOOR_PAGES) {
      return warn(
        NAME,
        `${intact}; its free pages stay in the file: it was created before stores gave them back`,
        `the next start converts it while its live data is at most ${toMib(CONVERT_MAX_LIVE_BYTES)}; a larger one: docs/operations.md, memory and disk (giving disk space back)`,
      );
    }
    return ok(NAME, intact);
  } catch (err) {
    const damaged = storeFailureHint(err)?.startsWith('the file is damaged');
    if (damaged) return fail(NAME, `${file} is damaged: ${errorMessage(err)}`, DAMAGED_FIX);
    return fail(
      NAME,
      `${file} cannot be read: ${errorMessage(err)}`,
      storeFailureHint(err) ?? 'check the file',
    );
  } finally {
    db?.close();
  }
}

/**
 * The bytes of a store file as an in-memory database can open them: its header's WAL marks
 * (bytes 18 and 19, both 2) set back to rollback (1); an in-memory database has no WAL.
 */
function walFree(bytes: Buffer): Buffer {
  if (bytes[18] === 2 && bytes[19] === 2) {
    bytes[18] = 1;
    bytes[19] = 1;
  }
  return bytes;
}

/** `schema_migrations` as name → version (empty before the first start migrated anything). */
function recordedVersions(db: BetterSqlite3.Database): Map<string, number> {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  if (!table.get()) return new Map();
  const rows = db.prepare('SELECT name, version FROM schema_migrations ORDER BY name').all() as {
    name: string;
    version: number;
  }[];
  return new Map(rows.map((r) => [r.name, r.version]));
}

/** Bytes as MiB with one decimal. */
function toMib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** SQLite's multi-line verdict on one line, bounded. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
