/**
 * A pool worker ended while its hook waits for a store lock another connection keeps (a sqlite3
 * shell, a backup tool): by its task's timeout, by the pool's close past its budget, or by the
 * process's exit. Each ran in a child process (test/fixtures/pool/locked-store-pool.ts), since the
 * defect aborted the whole process: the worker was terminated inside its SQLite call, the call
 * failed (SQLITE_BUSY) after its busy wait, and better-sqlite3 threw into the ending thread
 * (FATAL ERROR v8::ToLocalChecked, SIGABRT, exit 134).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';

const CHILD = join(repoRoot(), 'dist', 'test', 'fixtures', 'pool', 'locked-store-pool.js');

/** Run the child on `dir`, its worker ended by `how` (`bare`: its pool given no gate); resolves with its exit and its output. */
function runChild(dir: string, how: string, bare = false) {
  return new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [CHILD, dir, how, ...(bare ? ['bare'] : [])],
      (failure, out, err) => {
        const failed = failure as (Error & { code?: number; signal?: string }) | null;
        resolve({ code: failed ? (failed.code ?? null) : 0, signal: failed?.signal ?? null, out, err });
      },
    );
    child.stdin?.end();
  });
}

/** The keys the fixture plugin has in the store, and whether the file is consistent. */
function storeOf(dir: string): { keys: string[]; integrity: unknown } {
  const db = openDatabase(databasePath(dir));
  try {
    const keys = db
      .prepare("SELECT key FROM kv WHERE ns = 'store-pause' ORDER BY key")
      .pluck()
      .all() as string[];
    return { keys, integrity: db.pragma('integrity_check', { simple: true }) };
  } finally {
    db.close();
  }
}

test('a task timing out while its hook waits for a store lock fails as a timeout; the process lives on, and the next write lands', async (t) => {
  const dir = tempDir(t);
  const { code, signal, out, err } = await runChild(dir, 'timeout');
  // was: 134, SIGABRT, "FATAL ERROR: v8::ToLocalChecked Empty MaybeLocal" once the wait ended
  t.deepEqual({ code, signal }, { code: 0, signal: null }, err);
  t.deepEqual(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'), {
    first: 'CORE_ERR_PLUGIN_TIMEOUT',
    second: 'ok',
  });
  // the timed-out task's write is not there, the next one is: nothing half written
  t.deepEqual(storeOf(dir), { keys: ['seen:second'], integrity: 'ok' });
});

test("a pool closed past its budget while a hook waits for a store lock: the hook's task fails as closed, the process lives on", async (t) => {
  const dir = tempDir(t);
  const { code, signal, out, err } = await runChild(dir, 'close');
  t.deepEqual({ code, signal }, { code: 0, signal: null }, err);
  t.deepEqual(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'), {
    first: 'CORE_ERR_PLUGIN_POOL_CLOSED',
    second: 'not run',
  });
  t.deepEqual(storeOf(dir), { keys: [], integrity: 'ok' });
});

test('a process exiting while a hook waits for a store lock exits with its own code', async (t) => {
  const dir = tempDir(t);
  const { code, signal, out, err } = await runChild(dir, 'exit');
  t.true(out.includes('exiting'));
  t.deepEqual({ code, signal }, { code: 0, signal: null }, err);
  t.deepEqual(storeOf(dir), { keys: [], integrity: 'ok' });
});

test("a pool made without a gate in its options (a test's, an embedder's) is guarded all the same: a timeout inside a store wait does not abort the process", async (t) => {
  const dir = tempDir(t);
  const { code, signal, out, err } = await runChild(dir, 'timeout', true);
  // was: 134, SIGABRT (only the plugin host's pool had a gate; the pool's workers ran ungated)
  t.deepEqual({ code, signal }, { code: 0, signal: null }, err);
  t.deepEqual(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'), {
    first: 'CORE_ERR_PLUGIN_TIMEOUT',
    second: 'ok',
  });
  t.deepEqual(storeOf(dir), { keys: ['seen:second'], integrity: 'ok' });
});
