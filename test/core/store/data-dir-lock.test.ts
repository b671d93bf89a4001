import { spawn } from 'node:child_process';
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
