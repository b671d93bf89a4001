/**
 * A checkpoint thread stopped before it has opened the store (an inbox opened and closed at
 * once: tests, `doctor`, a short run): it leaves without touching the store's directory. It used
 * to open the store after its owner had gone, making the WAL files there (ENOTEMPTY in a
 * teardown removing the directory) or, once the directory was removed, a new empty store.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { Checkpointer } from '../../../core/store/checkpointer.js';
import { DATABASE_FILE, databasePath, openDatabase } from '../../../core/store/database.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';

/** A closed store holding one row in a directory of its own (its WAL files gone with its close). */
function closedStore(t: ExecutionContext) {
  const dir = tempDir(t);
  const file = databasePath(dir);
  const db = openDatabase(file);
  db.exec('CREATE TABLE t (v NOT NULL)');
  db.prepare('INSERT INTO t (v) VALUES (?)').run('x');
  db.close();
  t.deepEqual(readdirSync(dir), [DATABASE_FILE]);
  return { dir, file };
}

test('a checkpoint thread stopped before its open leaves the directory untouched', async (t) => {
  const { dir, file } = closedStore(t);
  const bytes = readFileSync(file);
  const mtime = statSync(file, { bigint: true }).mtimeNs;
  const seen: string[] = [];
  const watcher = watch(dir, (_event, name) => seen.push(String(name)));
  t.teardown(() => watcher.close());
  const sink = createLogSink();
  const checkpointer = Checkpointer.start(file, sink.logger, new Metrics(), 20);
  // in the same turn: the thread cannot have opened yet (it starts an isolate and loads its modules)
  t.true(await checkpointer.stop());
  // events come in order: once this one is seen, every earlier one has been
  writeFileSync(join(dir, 'sentinel'), '');
  await until(() => seen.includes('sentinel'), 10_000, 'the sentinel seen');
  // was: sidecar.db-wal and sidecar.db-shm made (and removed by the thread's close)
  t.deepEqual(
    seen.filter((name) => name !== 'sentinel'),
    [],
  );
  t.deepEqual(readdirSync(dir).sort(), ['sentinel', DATABASE_FILE]);
  t.deepEqual(readFileSync(file), bytes);
  t.is(statSync(file, { bigint: true }).mtimeNs, mtime);
  t.deepEqual(sink.withCode('CORE_ERR_STORE_CHECKPOINT_FAILED'), []);
});

test('a checkpoint thread stopped before its open makes nothing again in a directory removed after the stop', async (t) => {
  const { dir, file } = closedStore(t);
  const sink = createLogSink();
  const checkpointer = Checkpointer.start(file, sink.logger, new Metrics(), 20);
  const stopped = checkpointer.stop();
  // the owner's teardown, before the thread has run
  rmSync(dir, { recursive: true });
  t.true(await stopped);
  // was: the directory made again, holding a new, empty store
  t.false(existsSync(dir), `${dir} holds ${existsSync(dir) ? readdirSync(dir).join(', ') : ''}`);
  t.deepEqual(sink.withCode('CORE_ERR_STORE_CHECKPOINT_FAILED'), []);
});
