/**
 * `relay-sidecar run` as a real child process and its store: a second sidecar on the same data directory,
 * a store a newer build migrated, a store another process holds locked, and a damaged store each exit 2
 * with what to do; the store files are private to the sidecar user.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { databasePath, migrate, openDatabase } from '../../../core/store/database.js';
import { KV_MIGRATIONS } from '../../../core/store/kv-migrations.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { INBOX_MIGRATIONS } from '../../../sidecar/inbox/inbox-migrations.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { runChild, runEnv, startRelay } from '../lifecycle/run-fixture.js';
import { spawnCli, tempDir } from '../lifecycle/sidecar-child.js';

test.serial('a second sidecar on the same data directory exits 2 at once; the first runs on', async (t) => {
  const relay = await startRelay(t);
  const first = await runChild(t, relay);
  const second = spawnCli(t, ['run'], first.env);
  t.is((await second.waitExit()).code, 2);
  t.regex(
    second.stderr(),
    /^run: CORE_ERR_STORE_OPEN_FAILED: another relay-sidecar is running on the data directory /m,
  );
  t.is(first.child.proc.exitCode, null, 'the first is untouched');
  t.is(relay.connector.totalConnections(), 1);
});

test.serial(
  'a store a newer build migrated (a rolled-back binary) exits 2 naming the versions; nothing dials or changes',
  async (t) => {
    const relay = await startRelay(t);
    for (const [name, steps] of [
      ['kv', KV_MIGRATIONS],
      ['inbox', INBOX_MIGRATIONS],
    ] as const) {
      const dataDir = join(tempDir(t), 'data');
      const db = openDatabase(databasePath(dataDir));
      migrate(db, 'kv', KV_MIGRATIONS);
      migrate(db, 'inbox', INBOX_MIGRATIONS);
      // what a build with one more step of this component leaves behind
      db.prepare('UPDATE schema_migrations SET version = version + 1 WHERE name = ?').run(name);
      const recorded = () =>
        db.prepare('SELECT name, version, applied_at FROM schema_migrations ORDER BY name').all();
      const before = recorded();
      const child = spawnCli(t, ['run'], runEnv(t, relay, { dataDir }));
      t.is((await child.waitExit()).code, 2, name);
      t.regex(
        child.stderr(),
        new RegExp(
          `^run: CORE_ERR_STORE_SCHEMA_TOO_NEW: the store .*sidecar\\.db: its "${name}" schema is at version ${steps.length + 1}; this build knows versions up to ${steps.length}`,
          'm',
        ),
        name,
      );
      t.like(
        child.logs.find((l) => l.msg === 'start failed'),
        { code: 'CORE_ERR_STORE_SCHEMA_TOO_NEW', level: 50 },
      );
      t.notRegex(child.stderr() + child.stdout(), /\n\s+at /, 'no stack trace');
      t.deepEqual(recorded(), before, name);
      db.close();
    }
    t.is(relay.connector.totalConnections(), 0);
  },
);

test.serial('a store another process holds locked exits 2 naming the lock and what to do', async (t) => {
  const relay = await startRelay(t);
  const dataDir = join(tempDir(t), 'data');
  const file = databasePath(dataDir);
  openDatabase(file).close();
  // not a sidecar: a process with the store's write lock taken (a sqlite3 shell in a transaction)
  const script = `const db = new (require('better-sqlite3'))(${JSON.stringify(file)});
    db.exec('BEGIN EXCLUSIVE'); console.log('locked'); setInterval(() => {}, 1000);`;
  const holder = spawn(process.execPath, ['-e', script], {
    cwd: repoRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => holder.kill());
  await new Promise<void>((ok, fail) => {
    holder.stdout.on('data', () => ok());
    holder.on('exit', () => fail(new Error('the lock holder ended')));
  });
  const child = spawnCli(t, ['run'], runEnv(t, relay, { dataDir }));
  t.is((await child.waitExit()).code, 2);
  t.regex(
    child.stderr(),
    /^run: CORE_ERR_STORE_OPEN_FAILED: cannot open the store .*sidecar\.db: database is locked; another process holds its write lock/m,
  );
  t.like(
    child.logs.find((l) => l.msg === 'start failed'),
    { code: 'CORE_ERR_STORE_OPEN_FAILED', level: 50 },
  );
  t.notRegex(child.stderr() + child.stdout(), /\n\s+at /, 'no stack trace');
  t.is(relay.connector.totalConnections(), 0);
});

test.serial(
  'a damaged store (not SQLite, truncated) exits 2 saying it is damaged and what to do',
  async (t) => {
    const relay = await startRelay(t);
    const damaged: Record<string, (file: string) => void> = {
      'not a database': (file) => writeFileSync(file, 'this is not a SQLite file\n'.repeat(100)),
      truncated: (file) => truncateSync(file, 16 * 4096),
    };
    for (const [what, damage] of Object.entries(damaged)) {
      const dataDir = join(tempDir(t), 'data');
      const file = databasePath(dataDir);
      const db = openDatabase(file);
      const kv = new KvStore(db);
      for (let i = 0; i < 500; i++) kv.set('plugin', `key-${i}`, 'x'.repeat(500));
      db.close();
      damage(file);
      const child = spawnCli(t, ['run'], runEnv(t, relay, { dataDir }));
      t.is((await child.waitExit()).code, 2, what);
      t.regex(
        child.stderr(),
        /^run: CORE_ERR_STORE_OPEN_FAILED: cannot open the store .*sidecar\.db: .*; the file is damaged or not a relay-sidecar store: .*move the data directory aside/m,
        what,
      );
      t.notRegex(child.stderr() + child.stdout(), /\n\s+at /, 'no stack trace');
    }
    t.is(relay.connector.totalConnections(), 0);
  },
);

test.serial(
  'the store files are private to the sidecar user, even in a data directory others may read',
  async (t) => {
    const relay = await startRelay(t);
    const dataDir = join(tempDir(t), 'shared-data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const run = await runChild(t, relay, { dataDir });
    for (const file of ['sidecar.db', 'sidecar.db-wal', 'sidecar.lock', 'api-token']) {
      const path = join(dataDir, file);
      if (file !== 'api-token' || existsSync(path)) t.is(statSync(path).mode & 0o077, 0, file);
    }
    run.child.proc.kill('SIGTERM');
    t.is((await run.child.waitExit()).code, 0);
  },
);
