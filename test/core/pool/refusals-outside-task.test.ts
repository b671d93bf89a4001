/**
 * A store write refused outside any task (a plugin's timer) was tallied in its worker and carried
 * by that worker's next task's reply: a worker the pool ended first — an idle spare retired
 * (`pool.idleTimeoutMs`), a neighbour's timeout — lost it, since piscina terminates a worker
 * with no word to it first, and `relay_plugin_store_refusals_total` never counted it. Now the
 * worker sends such a tally at once on a port of its own (docs/decisions.md, "A store write past
 * a size limit").
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { pluginModule } from '../../helpers/plugin-module.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { FAULT_TIMEOUT_MS, forward, inboundInput, startFixtureHost } from '../plugin-host/fixture-host.js';

const KEY_TOO_LARGE = 'CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE';
const REFUSALS = 'relay_plugin_store_refusals_total';

test('a refusal counted outside a task survives its worker being ended before another task', async (t) => {
  t.timeout(60_000);
  // the hook leaves a timer behind that writes a key past store.maxKeyBytes, swallows the refusal
  // and says it is done
  const done = join(tempDir(t), 'refused');
  const module = pluginModule(
    t,
    'timer-writes',
    `import { writeFileSync } from 'node:fs';`,
    'inbound: (input, ctx) => { setTimeout(() => { try { ctx.store.set("k".repeat(200), 1); } catch {} ' +
      `writeFileSync(${JSON.stringify(done)}, ''); }, 10); return undefined; }`,
  );
  const { host, metrics, sink } = await startFixtureHost(
    t,
    [
      { name: 'timer-writes', module, timeoutMs: 10_000 },
      { name: 'fault-hangs', timeoutMs: FAULT_TIMEOUT_MS },
    ],
    {},
    { store: { maxKeyBytes: 64 } },
  );
  t.is((await host.runInbound(inboundInput('x'))).kind, 'event');
  // refused while the worker idles
  await until(() => existsSync(done));
  // the pool ends that worker (as it retires an idle spare: no message to it first)
  t.like(await host.convertForward(forward('hangs', {})), { error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  await until(
    async () => (await metrics.value(REFUSALS, { plugin: 'timer-writes', code: KEY_TOO_LARGE })) === 1,
    10_000,
  );
  t.like(sink.withMsg('plugin store write refused')[0], { plugin: 'timer-writes', code: KEY_TOO_LARGE });
});
