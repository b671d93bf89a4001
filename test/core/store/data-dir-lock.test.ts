import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { DataDirLock, LOCK_FILE } from '../../../core/store/data-dir-lock.js';
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
