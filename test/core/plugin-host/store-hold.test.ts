/**
 * Store writes through the real pool: a worker holds its hooks' writes until the task ends (or,
 * while a hook waits, for HOLD_FLUSH_MS), and a worker terminated mid-task loses them while the
 * rerun of the task's other chains writes theirs again (docs/plugins.md, "Writes commit when the
 * task ends"). The worker opens its store inside the task here, so the lazily opened connection is
 * covered too.
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
  // one turn: both chains travel in one task; the first writes, then blocks its thread
  const outcomes = Promise.all([
    host.runInbound(inboundInput(`block:${dir}`)),
    host.runInbound(inboundInput('second')),
  ]);
  await until(() => existsSync(join(dir, 'started')), 10_000, 'the first chain blocking');
  t.is(read('seen:block'), undefined, 'held while its task runs');
  writeFileSync(join(dir, 'go'), '');
  t.deepEqual(
    (await outcomes).map((o) => o.kind),
    ['event', 'event'],
  );
  t.is(read('seen:block'), true);
  t.is(read('seen:second'), true);
});

test('a task whose hook waits commits what it holds meanwhile (HOLD_FLUSH_MS)', async (t) => {
  const { host, dataDir } = await startFixtureHost(t, [{ name: 'store-pause', timeoutMs: 10_000 }]);
  const read = otherConnection(t, dataDir);
  const dir = tempDir(t);
  const outcome = host.runInbound(inboundInput(`pause:${dir}`));
  await until(() => existsSync(join(dir, 'started')), 10_000, 'the chain pausing');
  // a spare worker may take newer events now: what this task wrote must not land after theirs
  // the hook waits up to 5 s: seen within 2, the write was committed while it waited
  await until(() => read('seen:pause') === true, 2_000, 'the write committed while the hook waits');
  writeFileSync(join(dir, 'go'), '');
  t.is((await outcome).kind, 'event');
});

test('a worker terminated mid-task loses its held writes; the rerun writes the other chains again', async (t) => {
  const { host, dataDir } = await startFixtureHost(t, [{ name: 'store-pause', timeoutMs: 300 }]);
  const read = otherConnection(t, dataDir);
  const dir = tempDir(t);
  const [first, blocked] = await Promise.all([
    host.runInbound(inboundInput('first')),
    // never released: the hook blocks past its budget and the worker is terminated
    host.runInbound(inboundInput(`block:${dir}`)),
  ]);
  t.is(first?.kind, 'event');
  t.is(blocked?.kind, 'failed');
  if (blocked?.kind === 'failed') t.is(blocked.error.code, 'CORE_ERR_PLUGIN_TIMEOUT');
  t.is(read('seen:first'), true, 'written again by the rerun');
  t.is(read('seen:block'), undefined, 'lost with the terminated worker');
});
