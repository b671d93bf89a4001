/**
 * The `doctor` command's store check, read only: no store yet, an intact one, an older build's store with
 * free pages, a schema written by a newer build (also in a running sidecar's WAL), a store damaged deep
 * inside, and a file that is not SQLite.
 */
import { closeSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import test from 'ava';
import BetterSqlite3 from 'better-sqlite3';
import { databasePath, migrate, openDatabase } from '../../../core/store/database.js';
import { KV_MIGRATIONS } from '../../../core/store/kv-migrations.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { INBOX_MIGRATIONS } from '../../../sidecar/inbox/inbox-migrations.js';
import { devConnector, doctor, doctorIo } from './doctor-harness.js';

/** A store in `dataDir` as a sidecar leaves it: both schemas migrated, 300 plugin rows (75 pages). */
function storeIn(dataDir: string): string {
  const file = databasePath(dataDir);
  const db = openDatabase(file);
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  const kv = new KvStore(db);
  for (let i = 0; i < 300; i++) kv.set('plugin', `key-${i}`, 'x'.repeat(800));
  db.close();
  return file;
}

test('the store: none yet, intact, written by a newer build, damaged deep inside, not SQLite; read only', async (t) => {
  const dc = await devConnector(t);
  const run = async (prepare: (dataDir: string) => void) => {
    const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
    const dataDir = io.env.SIDECAR_DATA_DIR as string;
    mkdirSync(dataDir, { mode: 0o700 });
    prepare(dataDir);
    const before = readdirSync(dataDir).sort();
    const r = await doctor(t, io);
    t.deepEqual(readdirSync(dataDir).sort(), before, 'doctor creates no file');
    return { ...r, line: r.found.get('store')?.line ?? io.out };
  };

  const none = await run(() => {});
  t.regex(none.line, /^✓ store — none yet in .*data/);
  const intact = await run((dir) => storeIn(dir));
  t.regex(
    intact.line,
    new RegExp(
      `^✓ store — .*sidecar\\.db: intact \\(quick_check\\), schema inbox ${INBOX_MIGRATIONS.length}, kv ${KV_MIGRATIONS.length} \\(\\d+\\.\\d MiB, \\d+\\.\\d MiB free\\)$`,
    ),
  );
  t.is(intact.code, ExitCode.OK);
  // an older build's store (no auto-vacuum) with its free pages: they stay in the file
  const older = await run((dir) => {
    const db = new BetterSqlite3(databasePath(dir));
    db.pragma('journal_mode = WAL');
    migrate(db, 'inbox', INBOX_MIGRATIONS);
    const kv = new KvStore(db);
    for (let i = 0; i < 2_000; i++) kv.set('plugin', `key-${i}`, 'x'.repeat(3_000));
    for (let i = 0; i < 2_000; i++) kv.set('plugin', `key-${i}`, undefined);
    db.close();
  });
  t.regex(
    older.line,
    /^! store — .*intact.* MiB free\); its free pages stay in the file.* Fix: the next start converts it/,
  );
  t.is(older.code, ExitCode.OK);

  const newer = await run((dir) => {
    const db = openDatabase(storeIn(dir));
    db.prepare("UPDATE schema_migrations SET version = version + 1 WHERE name = 'inbox'").run();
    db.close();
  });
  t.regex(
    newer.line,
    new RegExp(
      `^✗ store — .*: its "inbox" schema is at version ${INBOX_MIGRATIONS.length + 1}; this build knows versions up to ${INBOX_MIGRATIONS.length}.* Fix: run the newer relay-sidecar`,
    ),
  );
  t.is(newer.code, ExitCode.CONFIG);

  // a running sidecar's store: checked in place, WAL included (this change is only in the WAL)
  let running: ReturnType<typeof openDatabase> | undefined;
  const live = await run((dir) => {
    running = openDatabase(storeIn(dir));
    running.prepare("UPDATE schema_migrations SET version = version + 1 WHERE name = 'kv'").run();
  });
  running?.close();
  t.regex(
    live.line,
    new RegExp(
      `^✗ store — .*: its "kv" schema is at version ${KV_MIGRATIONS.length + 1}; this build knows versions up to ${KV_MIGRATIONS.length}`,
    ),
  );

  // garbage over pages in the middle: the file opens, as it does for `run`; a page read fails
  const deep = await run((dir) => {
    const file = storeIn(dir);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(3 * 4096, 0x5a), 0, 3 * 4096, 40 * 4096);
    closeSync(fd);
  });
  t.regex(
    deep.line,
    /^✗ store — .*sidecar\.db is damaged: .* Fix: stop the sidecar, move the data directory aside/,
  );
  t.is(deep.code, ExitCode.CONFIG);

  const garbage = await run((dir) => writeFileSync(databasePath(dir), 'not a database\n'.repeat(300)));
  t.regex(
    garbage.line,
    /^✗ store — .*sidecar\.db is damaged: file is not a database.* Fix: stop the sidecar, move/,
  );
});
