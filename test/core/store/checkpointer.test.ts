/**
 * The checkpointer thread on a real file: committed pages reach the database file without any
 * connection checkpointing itself, `stop` ends the thread, and a thread that cannot open the
 * store is reported once with its code (the fallback autocheckpoint keeps working).
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createLogger } from '../../../core/log/logger.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { Checkpointer } from '../../../core/store/checkpointer.js';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';

function capture() {
  const chunks: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (c: string) => void chunks.push(c) } });
  return { log, lines: () => chunks.join('') };
}

/** A store file with one table `t (v)`, and its insert statement. */
function storeWithTable(t: ExecutionContext) {
  const file = databasePath(tempDir(t));
  const db = openDatabase(file);
  t.teardown(() => db.close());
  db.exec('CREATE TABLE t (v NOT NULL)');
  return { file, db, insert: db.prepare('INSERT INTO t (v) VALUES (?)') };
}

test('committed pages reach the database file from the checkpoint thread', async (t) => {
  const { file, db, insert } = storeWithTable(t);
  db.transaction(() => {
    for (let i = 0; i < 1_000; i++) insert.run('x'.repeat(1_000));
  })();
  const before = statSync(file).size;
  t.true(before < 100_000, `nothing checkpointed yet (${before} bytes; fallback threshold is ~160 MiB)`);
  const { log, lines } = capture();
  const checkpointer = Checkpointer.start(file, log, new Metrics(), 20);
  await until(() => statSync(file).size > 1_000_000, 10_000, 'the main file grew to hold the rows', 20);
  await checkpointer.stop();
  t.is(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 1_000);
  t.false(lines().includes('CORE_ERR_STORE_CHECKPOINT_FAILED'));
});

test('a checkpoint thread that starts while a commit holds the write lock opens, and checkpoints', async (t) => {
  const { file, db, insert } = storeWithTable(t);
  db.transaction(() => {
    for (let i = 0; i < 1_000; i++) insert.run('x'.repeat(1_000));
  })();
  // a long commit of this process (a purge, the inbox's, a plugin's) as the thread opens: its open
  // waits on locks for 20 ms only, and set auto_vacuum, which takes the write lock
  db.exec('BEGIN IMMEDIATE');
  insert.run('y');
  const { log, lines } = capture();
  const checkpointer = Checkpointer.start(file, log, new Metrics(), 20);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  db.exec('COMMIT');
  // was: "checkpoint thread died" (another connection held the store locked past 20 ms), for good
  await until(() => statSync(file).size > 1_000_000, 10_000, 'the main file grew to hold the rows', 20);
  t.true(await checkpointer.stop());
  t.false(lines().includes('CORE_ERR_STORE_CHECKPOINT_FAILED'), lines());
});

test('a checkpoint thread that cannot open the store is reported with its code', async (t) => {
  const blocker = join(tempDir(t), 'a-file');
  writeFileSync(blocker, '');
  const { log, lines } = capture();
  const metrics = new Metrics();
  const checkpointer = Checkpointer.start(join(blocker, 'sidecar.db'), log, metrics, 20);
  await until(() => lines().includes('CORE_ERR_STORE_CHECKPOINT_FAILED'), 10_000, 'the failure logged', 20);
  await checkpointer.stop(500);
  t.regex(lines(), /checkpoint thread died/);
});

test('under steady writes the WAL starts over instead of growing: its file stays under half of what was written', async (t) => {
  const { file, db, insert } = storeWithTable(t);
  const { log, lines } = capture();
  const checkpointer = Checkpointer.start(file, log, new Metrics(), 10, 100);
  const page = Buffer.alloc(4_000, 7);
  // 200 small commits, each waiting until the thread has copied what was committed into the
  // database file, like a sidecar whose checkpointer keeps up: paced by the thread's progress, not
  // by a pause, because on a busy machine the thread could starve for a whole run of commits and
  // the WAL grew past half of what was written (4.2 of 8.2 MB seen at load 15)
  const rows = 2_000;
  for (let i = 1; i <= rows / 10; i++) {
    db.transaction(() => {
      for (let j = 0; j < 10; j++) insert.run(page);
    })();
    await until(() => statSync(file).size >= i * 10 * page.length, 10_000, `commit ${i} checkpointed`, 2);
  }
  await checkpointer.stop();
  const written = rows * 4_096;
  const wal = statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  // without checkpoints the WAL holds every page written; with them it starts over
  t.true(wal < written / 2, `WAL file ${wal} bytes after ${written} bytes of pages`);
  t.is(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), rows);
  t.false(lines().includes('CORE_ERR_STORE_CHECKPOINT_FAILED'));
});

test.serial("checkpointers share one exit listener: the store gate's, once per process", async (t) => {
  const { file } = storeWithTable(t);
  const { log } = capture();
  const before = process.listenerCount('exit');
  const many = Array.from({ length: 12 }, () => Checkpointer.start(file, log, new Metrics(), 20));
  // was: one each (node's MaxListenersExceededWarning past ten, as the inbox tests run)
  t.true(process.listenerCount('exit') <= before + 1);
  await Promise.all(many.map((c) => c.stop()));
  const again = Checkpointer.start(file, log, new Metrics(), 20);
  t.true(process.listenerCount('exit') <= before + 1);
  await again.stop();
});
