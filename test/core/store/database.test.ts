import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import {
  DATABASE_FILE,
  DEFAULT_PAGE_CACHE_MIB,
  databasePath,
  migrate,
  openDatabase,
  storeOpenFailed,
} from '../../../core/store/database.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { mountTmpfs, withTmpfs } from '../../helpers/tmpfs.js';

test('databasePath puts sidecar.db in the data directory', (t) => {
  t.is(databasePath('/var/lib/relay'), join('/var/lib/relay', DATABASE_FILE));
  t.is(DATABASE_FILE, 'sidecar.db');
});

test('openDatabase creates the parent directory 0700 and sets WAL, NORMAL, busy timeout, foreign keys', (t) => {
  const dir = join(tempDir(t), 'nested', 'data');
  const db = openDatabase(databasePath(dir));
  t.teardown(() => db.close());
  t.is(statSync(dir).mode & 0o777, 0o700);
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  t.is(db.pragma('synchronous', { simple: true }), 1); // NORMAL
  t.is(db.pragma('busy_timeout', { simple: true }), 5_000);
  t.is(db.pragma('foreign_keys', { simple: true }), 1);
});

test('openDatabase bounds the page cache: 2 MiB unless the caller names a size', (t) => {
  const dir = tempDir(t);
  const plain = openDatabase(databasePath(dir));
  t.teardown(() => plain.close());
  // negative cache_size = KiB; SQLite as better-sqlite3 builds it would cache 16 MiB
  t.is(plain.pragma('cache_size', { simple: true }), -DEFAULT_PAGE_CACHE_MIB * 1024);
  const sized = openDatabase(databasePath(dir), 6);
  t.teardown(() => sized.close());
  t.is(sized.pragma('cache_size', { simple: true }), -6 * 1024);
});

test('openDatabase fails with CORE_ERR_STORE_OPEN_FAILED naming the file', (t) => {
  const dir = tempDir(t);
  const blocker = join(dir, 'not-a-dir');
  writeFileSync(blocker, 'x');
  const file = join(blocker, 'sidecar.db');
  const err = t.throws(() => openDatabase(file), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_STORE_OPEN_FAILED');
  t.true(err?.message.includes(file));
});

test('a secondary open of a store that is not there fails and makes nothing: no directory, no file', (t) => {
  const dir = join(tempDir(t), 'gone');
  const file = databasePath(dir);
  const err = t.throws(() => openDatabase(file, undefined, { secondary: true }));
  t.is((err as RelayError).code, 'CORE_ERR_STORE_OPEN_FAILED');
  // was: the directory and a new, empty store (a checkpoint thread opening after its owner had gone)
  t.false(existsSync(dir));
  const parent = tempDir(t);
  t.throws(() => openDatabase(databasePath(parent), undefined, { secondary: true }));
  t.false(existsSync(databasePath(parent)));
});

test('a secondary open of a store that is not there says it is gone, not that its directory is not writable', (t) => {
  const gone = databasePath(join(tempDir(t), 'gone'));
  const emptied = databasePath(tempDir(t));
  for (const file of [gone, emptied]) {
    const err = t.throws(() => openDatabase(file, undefined, { secondary: true }), {
      instanceOf: RelayError,
    });
    t.is(err?.code, 'CORE_ERR_STORE_OPEN_FAILED');
    // was: "<dir> is not writable by this user; fix its owner or mode" (its directory gone), or
    // SQLite's "unable to open database file" (the file gone)
    t.regex(
      err?.message ?? '',
      /sidecar\.db is not there: it was removed or moved after this process opened it/,
    );
    t.notRegex(err?.message ?? '', /not writable|unable to open/);
  }
});

test('migrate applies each step once, in order, and only new steps later', (t) => {
  const db = openDatabase(databasePath(tempDir(t)));
  t.teardown(() => db.close());
  const v1 = ['CREATE TABLE a (x INTEGER)'];
  const v2 = [...v1, 'ALTER TABLE a ADD COLUMN y TEXT', "INSERT INTO a (x, y) VALUES (1, 'one')"];
  t.is(migrate(db, 'demo', v1), 1);
  t.is(migrate(db, 'demo', v1), 0);
  t.is(migrate(db, 'demo', v2), 2);
  t.is(migrate(db, 'demo', v2), 0);
  t.deepEqual(db.prepare('SELECT x, y FROM a').all(), [{ x: 1, y: 'one' }]);
  t.deepEqual(db.prepare("SELECT version FROM schema_migrations WHERE name = 'demo'").get(), { version: 3 });
});

test('migrations of different components are independent', (t) => {
  const db = openDatabase(databasePath(tempDir(t)));
  t.teardown(() => db.close());
  t.is(migrate(db, 'one', ['CREATE TABLE one (x)']), 1);
  t.is(migrate(db, 'two', ['CREATE TABLE two (x)', 'CREATE TABLE two_b (x)']), 2);
  t.is(migrate(db, 'one', ['CREATE TABLE one (x)']), 0);
});

test('a failing step rolls the whole migration back', (t) => {
  const db = openDatabase(databasePath(tempDir(t)));
  t.teardown(() => db.close());
  t.throws(() => migrate(db, 'bad', ['CREATE TABLE ok (x)', 'THIS IS NOT SQL']), {
    any: true,
    code: 'SQLITE_ERROR',
  });
  t.is(db.prepare("SELECT name FROM sqlite_master WHERE name = 'ok'").get(), undefined);
  t.is(migrate(db, 'bad', ['CREATE TABLE ok (x)']), 1);
});

test('migrate refuses a store whose recorded version is newer than the steps it knows, changing nothing', (t) => {
  const db = openDatabase(databasePath(tempDir(t)));
  t.teardown(() => db.close());
  const v2 = ['CREATE TABLE a (x INTEGER)', 'ALTER TABLE a ADD COLUMN y TEXT'];
  t.is(migrate(db, 'demo', v2), 2);
  const before = db.prepare("SELECT version, applied_at FROM schema_migrations WHERE name = 'demo'").get();
  // an older build (one step) opens the store the newer one (two steps) migrated
  const err = t.throws(() => migrate(db, 'demo', v2.slice(0, 1)), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_STORE_SCHEMA_TOO_NEW');
  t.regex(err?.message ?? '', /"demo" schema is at version 2; this build knows versions up to 1/);
  t.regex(err?.message ?? '', /newer relay-sidecar/);
  t.deepEqual(
    db.prepare("SELECT version, applied_at FROM schema_migrations WHERE name = 'demo'").get(),
    before,
  );
  // the same build and a newer one still open it
  t.is(migrate(db, 'demo', v2), 0);
  t.is(migrate(db, 'demo', [...v2, 'CREATE TABLE b (z)']), 1);
});

// root writes any file, so a read-only store needs another user: runuser, as root (CI runs as root)
const asOtherUser = process.getuid?.() === 0 && existsSync('/usr/sbin/runuser') ? test : test.skip;

asOtherUser('a store this user may only read is refused at open, unless the opener only reads', (t) => {
  // the other user's own directory, holding a store file root created (0644): readable, not writable
  const parent = tempDir(t);
  chmodSync(parent, 0o755);
  const dir = join(parent, 'data');
  const file = databasePath(dir);
  openDatabase(file).close();
  const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  chownSync(dir, nobody, nobody);
  chmodSync(dir, 0o755);
  const module = pathToFileURL(join(repoRoot(), 'dist', 'core', 'store', 'database.js')).href;
  const script = `
    const { openDatabase } = await import(${JSON.stringify(module)});
    try { openDatabase(${JSON.stringify(file)}); console.log('opened for writing'); }
    catch (err) { console.log(err.code + ' ' + err.message); }
    const reader = openDatabase(${JSON.stringify(file)}, undefined, { readOnly: true });
    console.log('reader sees ' + reader.prepare('SELECT count(*) AS n FROM sqlite_master').get().n + ' objects');
    reader.close();`;
  const run = spawnSync(
    '/usr/sbin/runuser',
    ['-u', 'nobody', '--', process.execPath, '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
    },
  );
  const [refused, reader] = run.stdout.trim().split('\n');
  t.regex(
    refused ?? '',
    /^CORE_ERR_STORE_OPEN_FAILED cannot open the store .*: .*sidecar\.db is not writable by this user/,
    run.stderr,
  );
  t.regex(reader ?? '', /^reader sees \d+ objects$/, run.stderr);
});

withTmpfs('a data directory on a read-only file system says so, not to fix its owner or mode', (t) => {
  const ro = mountTmpfs(t, 64, true);
  const err = t.throws(() => openDatabase(join(ro, 'sidecar.db')), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_STORE_OPEN_FAILED');
  // was: "… is not writable by this user; fix its owner or mode, or run as its owner"
  t.regex(err?.message ?? '', /is on a read-only file system; set SIDECAR_DATA_DIR to a writable one/);
});

withTmpfs('a full disk at open says to free space or move the data directory', (t) => {
  const full = mountTmpfs(t, 48);
  writeFileSync(join(full, 'filler'), Buffer.alloc(40 * 1024));
  const err = t.throws(
    () => {
      const db = openDatabase(join(full, 'sidecar.db'));
      try {
        // a fresh file takes a few pages at most: fill what is left, as a growing store does
        migrate(db, 'big', ['CREATE TABLE t (v BLOB); INSERT INTO t VALUES (zeroblob(65536))']);
      } finally {
        db.close();
      }
    },
    { message: /full/ },
  );
  // was: "database or disk is full", with no next step
  t.regex(storeOpenFailed('the store', err).message, /is full: free space there, or move SIDECAR_DATA_DIR$/);
});
