/**
 * Store writes through the real pool: a worker holds its hooks' writes until the task ends, and a
 * worker terminated mid-task loses them while the rerun of the task's other chains writes theirs
 * again (docs/plugins.md, "Writes commit when the task ends"). The worker opens its store inside
 * the task here, so the lazily opened connection is covered too.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { inboundInput, startFixtureHost } from './fixture-host.js';

/** Another connection to the host's store, as another thread would have. */
function otherConnection(t: ExecutionContext, dataDir: string): (key: string) => unknown {
  const db = openDatabase(databasePath(dataDir));
  t.teardown(() => db.close());
  const kv = new KvStore(db);
  return (key) => kv.get('store-pause', key);
}

test("a task's writes reach other connections when the task ends, not before", async (t) => {
  const { host, dataDir } = await startFixtureHost(t, [{ name: 'store-pause', timeoutMs: 10_000 }]);
  const read = otherConnection(t, dataDir);
  const dir = tempDir(t);
  // one turn: both chains travel in one task, the first written before the second pauses
  const outcomes = Promise.all([
    host.runInbound(inboundInput('first')),
    host.runInbound(inboundInput(`pause:${dir}`)),
  ]);
  await until(() => existsSync(join(dir, 'started')), 10_000, 'the second chain pausing');
  t.is(read('seen:first'), undefined, 'held while its task runs');
  t.is(read('seen:pause'), undefined);
  writeFileSync(join(dir, 'go'), '');
  t.deepEqual(
    (await outcomes).map((o) => o.kind),
    ['event', 'event'],
  );
  t.is(read('seen:first'), true);
  t.is(read('seen:pause'), true);
});

test('a worker terminated mid-task loses its held writes; the rerun writes the other chains again', async (t) => {
  const { host, dataDir } = await startFixtureHost(t, [{ name: 'store-pause', timeoutMs: 300 }]);
  const read = otherConnection(t, dataDir);
  const dir = tempDir(t);
  const [first, paused] = await Promise.all([
    host.runInbound(inboundInput('first')),
    // never released: the hook runs past its budget and the worker is terminated
    host.runInbound(inboundInput(`pause:${dir}`)),
  ]);
  t.is(first?.kind, 'event');
  t.is(paused?.kind, 'failed');
  if (paused?.kind === 'failed') t.is(paused.error.code, 'CORE_ERR_PLUGIN_TIMEOUT');
  t.is(read('seen:first'), true, 'written again by the rerun');
  t.is(read('seen:pause'), undefined, 'lost with the terminated worker');
});
