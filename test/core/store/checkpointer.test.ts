/**
 * The checkpointer thread on a real file: committed pages reach the database file without any
 * connection checkpointing itself, `stop` ends the thread, and a thread that cannot open the
 * store is reported once with its code (the fallback autocheckpoint keeps working).
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { createLogger } from '../../../core/log/logger.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { Checkpointer } from '../../../core/store/checkpointer.js';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { tempDir } from './temp-dir.js';

function capture() {
  const chunks: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (c: string) => void chunks.push(c) } });
  return { log, lines: () => chunks.join('') };
}

async function until(check: () => boolean, budgetMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + budgetMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

test('committed pages reach the database file from the checkpoint thread', async (t) => {
  const file = databasePath(tempDir(t));
  const db = openDatabase(file);
  t.teardown(() => db.close());
  db.exec('CREATE TABLE t (v TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 1_000; i++) insert.run('x'.repeat(1_000));
  })();
  const before = statSync(file).size;
  t.true(before < 100_000, `nothing checkpointed yet (${before} bytes; fallback threshold is ~40 MiB)`);
  const { log, lines } = capture();
  const checkpointer = Checkpointer.start(file, log, new Metrics(), 20);
  t.true(await until(() => statSync(file).size > 1_000_000), 'the main file grew to hold the rows');
  await checkpointer.stop();
  t.is(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 1_000);
  t.false(lines().includes('CORE_ERR_STORE_CHECKPOINT_FAILED'));
});

test('a checkpoint thread that cannot open the store is reported with its code', async (t) => {
  const blocker = join(tempDir(t), 'a-file');
  writeFileSync(blocker, '');
  const { log, lines } = capture();
  const metrics = new Metrics();
  const checkpointer = Checkpointer.start(join(blocker, 'sidecar.db'), log, metrics, 20);
  t.true(await until(() => lines().includes('CORE_ERR_STORE_CHECKPOINT_FAILED')));
  await checkpointer.stop(500);
  t.regex(lines(), /checkpoint thread died/);
});
