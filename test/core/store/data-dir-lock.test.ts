import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { DataDirLock, LOCK_FILE } from '../../../core/store/data-dir-lock.js';
import { DATABASE_FILE, storeFiles } from '../../../core/store/database.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';

test('one holder per data directory: a second is refused at once, naming the directory and what to do', (t) => {
  const dir = join(tempDir(t), 'data');
  const first = DataDirLock.acquire(dir);
  t.teardown(() => first.release());
  const err = t.throws(() => DataDirLock.acquire(dir), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_STORE_OPEN_FAILED');
  t.true(err?.message.includes(`another relay-sidecar is running on the data directory ${dir}`));
  t.true(err?.message.includes(join(dir, LOCK_FILE)));
  t.regex(err?.message ?? '', /give this one its own SIDECAR_DATA_DIR/);
  first.release();
  first.release(); // idempotent
  DataDirLock.acquire(dir).release();
});

test('a data dir that is a file is named as such, with what to do', (t) => {
  const file = join(tempDir(t), 'data');
  writeFileSync(file, 'not a directory');
  const err = t.throws(() => DataDirLock.acquire(file), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_STORE_OPEN_FAILED');
  // was: "… EEXIST: file already exists, mkdir '…'"
  t.regex(
    err?.message ?? '',
    new RegExp(`: ${file} is not a directory; point SIDECAR_DATA_DIR at a directory$`),
  );
});

test('a holder killed with SIGKILL leaves no stale lock: the next start takes it at once', async (t) => {
  const dir = join(tempDir(t), 'data');
  const module = pathToFileURL(join(repoRoot(), 'dist', 'core', 'store', 'data-dir-lock.js')).href;
  const script = `const { DataDirLock } = await import(${JSON.stringify(module)});
    DataDirLock.acquire(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((held) => child.stdout.once('data', () => held()));
  t.throws(() => DataDirLock.acquire(dir), { message: /another relay-sidecar is running/ });
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await exited;
  DataDirLock.acquire(dir).release();
  t.pass();
});

// root writes any file, so an unwritable lock needs another user: runuser, as root (CI runs as root)
const asOtherUser = process.getuid?.() === 0 && existsSync('/usr/sbin/runuser') ? test : test.skip;

/** `DataDirLock.acquire(dir)` as the user nobody: `held`, or the error's code and message. */
function acquireAsNobody(dir: string): string {
  const module = pathToFileURL(join(repoRoot(), 'dist', 'core', 'store', 'data-dir-lock.js')).href;
  const script = `const { DataDirLock } = await import(${JSON.stringify(module)});
    try { DataDirLock.acquire(${JSON.stringify(dir)}).release(); console.log('held'); }
    catch (err) { console.log(err.code + ' ' + err.message); }`;
  const run = spawnSync(
    '/usr/sbin/runuser',
    ['-u', 'nobody', '--', process.execPath, '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  return run.stdout.trim() || run.stderr;
}

asOtherUser('a lock this user may not take names the path that is not writable and what to do', (t) => {
  // the usual slip: a first start as root, then the service as its own user on the same directory
  const parent = tempDir(t);
  chmodSync(parent, 0o755);
  const dir = join(parent, 'data');
  DataDirLock.acquire(dir).release(); // root's sidecar.lock, mode 0644 or tighter
  const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  chownSync(dir, nobody, nobody);
  chmodSync(join(dir, LOCK_FILE), 0o600);
  // was: "cannot lock the data directory … (…/sidecar.lock): unable to open database file"
  t.regex(
    acquireAsNobody(dir),
    new RegExp(
      `^CORE_ERR_STORE_OPEN_FAILED cannot lock the data directory ${dir} .*: ${join(dir, LOCK_FILE)} is not writable by this user; fix its owner or mode, or run as its owner$`,
    ),
  );
  // the directory itself: root's, not writable by nobody
  chownSync(dir, 0, 0);
  chmodSync(dir, 0o755);
  t.regex(acquireAsNobody(dir), new RegExp(`: ${dir} is not writable by this user; fix its owner or mode`));
  chownSync(dir, nobody, nobody);
  chownSync(join(dir, LOCK_FILE), nobody, nobody);
  t.is(acquireAsNobody(dir), 'held');
});

test('a world-writable data dir is refused: any local user could put their own store files in it', (t) => {
  const dir = join(tempDir(t), 'data');
  mkdirSync(dir);
  for (const mode of [0o777, 0o1777]) {
    chmodSync(dir, mode);
    const err = t.throws(() => DataDirLock.acquire(dir), { instanceOf: RelayError });
    t.is(err?.code, 'CORE_ERR_STORE_OPEN_FAILED');
    t.true(
      err?.message.endsWith(
        `: ${dir} is world-writable (mode 0${mode.toString(8)}): another local user could place or replace the store's files; chmod 700 ${dir}`,
      ),
      err?.message,
    );
  }
  t.false(existsSync(join(dir, LOCK_FILE)), 'nothing was created in it');
  chmodSync(dir, 0o700);
  DataDirLock.acquire(dir).release();
});

test('a store file that is a symbolic link is refused: SQLite would open whatever it points at', (t) => {
  const root = tempDir(t);
  const dir = join(root, 'data');
  mkdirSync(dir, { mode: 0o700 });
  const elsewhere = join(root, 'elsewhere.db');
  writeFileSync(elsewhere, '');
  for (const name of [...storeFiles(DATABASE_FILE), `${DATABASE_FILE}-journal`, LOCK_FILE]) {
    symlinkSync(elsewhere, join(dir, name));
    const err = t.throws(() => DataDirLock.acquire(dir), { instanceOf: RelayError });
    t.is(err?.code, 'CORE_ERR_STORE_OPEN_FAILED');
    t.true(
      err?.message.endsWith(
        `: ${join(dir, name)} is a symbolic link; the store's files must be regular files of this user; remove it`,
      ),
      err?.message,
    );
    rmSync(join(dir, name));
  }
  t.is(readFileSync(elsewhere, 'utf8'), '', 'the link target was not touched');
  DataDirLock.acquire(dir).release();
});

asOtherUser(
  'store files or a data dir of another user are refused: that user could read and change the store',
  (t) => {
    // a store file another user placed (mode 0666 passes every writability check): as root, the
    // sidecar would keep its messages, interaction tokens and plugin state in that user's file
    const parent = tempDir(t);
    chmodSync(parent, 0o755);
    const dir = join(parent, 'data');
    mkdirSync(dir, { mode: 0o700 });
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    const planted = join(dir, `${DATABASE_FILE}-wal`);
    writeFileSync(planted, '', { mode: 0o666 });
    chmodSync(planted, 0o666);
    chownSync(planted, nobody, nobody);
    const err = t.throws(() => DataDirLock.acquire(dir), { instanceOf: RelayError });
    t.is(err?.code, 'CORE_ERR_STORE_OPEN_FAILED');
    t.true(
      err?.message.endsWith(
        `: ${planted} belongs to another user (uid ${nobody}), who could read and change it; remove it, or run as its owner`,
      ),
      err?.message,
    );
    rmSync(planted);
    // the directory itself: its owner may replace any file in it
    chownSync(dir, nobody, nobody);
    const dirErr = t.throws(() => DataDirLock.acquire(dir), { instanceOf: RelayError });
    t.true(
      dirErr?.message.endsWith(
        `: ${dir} belongs to another user (uid ${nobody}), who could replace the store's files; chown it to this user, or run as its owner`,
      ),
      dirErr?.message,
    );
    // root's files are not another user's: nobody runs on a directory root created for it
    chownSync(dir, 0, 0);
    DataDirLock.acquire(dir).release();
    t.regex(acquireAsNobody(dir), /is not writable by this user/);
  },
);

test('a lock whose object is dropped stays held until the process ends: garbage collection does not release it', async (t) => {
  const dir = join(tempDir(t), 'data');
  const module = pathToFileURL(join(repoRoot(), 'dist', 'core', 'store', 'data-dir-lock.js')).href;
  // the holder keeps no reference and collects its garbage: before the fix, better-sqlite3 closed
  // the lock's connection at the GC, ending its EXCLUSIVE transaction (the SIGKILL test above
  // failed that way on a loaded machine)
  const script = `const { DataDirLock } = await import(${JSON.stringify(module)});
    DataDirLock.acquire(${JSON.stringify(dir)});
    for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }
    console.log('collected'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((collected) => child.stdout.once('data', () => collected()));
  t.throws(() => DataDirLock.acquire(dir), { message: /another relay-sidecar is running/ });
});
