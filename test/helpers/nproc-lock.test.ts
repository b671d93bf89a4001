/**
 * The lock that runs one thread-limited child at a time (nproc-lock.ts, thread-limit.ts): what a
 * killed or ended holder leaves behind must never hold it, and a live holder must.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import test, { type ExecutionContext } from 'ava';
import { holdLock } from './nproc-lock.js';
import { tempDir } from './temp-dir.js';

const HELPER = new URL('./nproc-lock.js', import.meta.url).href;

/** A process holding `lock` until it is killed (killed at teardown if still running). */
async function holder(t: ExecutionContext, lock: string) {
  const script = `const { holdLock } = await import(${JSON.stringify(HELPER)});
await holdLock(${JSON.stringify(lock)}, 5_000);
console.log('held');
setInterval(() => undefined, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  for await (const line of createInterface({ input: child.stdout })) if (line === 'held') break;
  return { child, exited };
}

test('a holder killed while it holds the lock frees it', async (t) => {
  const lock = join(tempDir(t), 'lock');
  const { child, exited } = await holder(t, lock);
  await t.throwsAsync(holdLock(lock, 200), undefined, 'held while its holder lives');
  child.kill('SIGKILL');
  await exited;
  const release = await holdLock(lock, 2_000);
  await release();
});

test('a lock dir a run killed as it took it left behind, with no pid or a partly written one, holds nothing', async (t) => {
  const dir = tempDir(t);
  for (const pid of [undefined, '']) {
    // the dir lock's state between its mkdir and its pid's write (was: every later test waited
    // its whole wait, then failed, until someone removed the dir by hand)
    const lock = join(dir, `lock-${pid === undefined ? 'none' : 'empty'}`);
    mkdirSync(lock);
    if (pid !== undefined) writeFileSync(join(lock, 'pid'), pid);
    const release = await holdLock(lock, 2_000);
    await release();
    t.pass(`taken past a lock dir with ${pid === undefined ? 'no pid' : 'an empty pid'}`);
  }
});

test("a dead run's lock whose pid another process now has holds nothing", async (t) => {
  const lock = join(tempDir(t), 'lock');
  // the pid a killed run left, reused since by a process that holds no lock (was: held)
  mkdirSync(lock);
  writeFileSync(join(lock, 'pid'), String(process.pid));
  const release = await holdLock(lock, 2_000);
  await release();
  t.pass();
});

test('a second taker waits for the holder, and gets the lock once it is released', async (t) => {
  const lock = join(tempDir(t), 'lock');
  const release = await holdLock(lock, 2_000);
  const second = holdLock(lock, 10_000);
  let taken = false;
  void second.then(() => {
    taken = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.false(taken);
  await release();
  await (await second)();
});
