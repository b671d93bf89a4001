/**
 * A worker whose boot runs past the boot wait (5 s, worker-runtime.ts `BOOT_WAIT_MS`) and then
 * dies importing a plugin: its tasks started after the wait, so a task awaiting that import failed
 * as its hook's (`plugin task failed`, `CORE_ERR_PLUGIN_WORKER_DIED`, counted in
 * `relay_plugin_failures_total`) while the same death was also logged as a boot death: two
 * reports of one death, the first blaming a hook. Now one report, the boot death's; the task fails
 * `CORE_ERR_PLUGIN_WORKER_BOOT_FAILED`, transiently, blaming no hook (docs/decisions.md).
 */
import test from 'ava';
import { flaggedPluginModule } from '../../helpers/plugin-module.js';
import {
  ECHO,
  FAULT_TIMEOUT_MS,
  forward,
  inboundInput,
  startFixtureHost,
} from '../plugin-host/fixture-host.js';

const BOOT = 'CORE_ERR_PLUGIN_WORKER_BOOT_FAILED';

test('a worker that dies importing a plugin after the boot wait: one report, the boot death, no hook blamed', async (t) => {
  t.timeout(90_000);
  // once the flag exists, the import takes past the boot wait, then runs the worker out of memory
  const { module, raise } = flaggedPluginModule(
    t,
    'boot-late',
    '{\n' +
      '  await new Promise((resolve) => setTimeout(resolve, 6_500));\n' +
      '  const hoard = []; for (;;) hoard.push(new Array(1_000_000).fill(hoard.length));\n' +
      '}',
    'inbound: () => undefined',
  );
  const { host, sink, metrics } = await startFixtureHost(
    t,
    [
      ECHO,
      { name: 'fault-hangs', timeoutMs: FAULT_TIMEOUT_MS },
      { name: 'boot-late', module, timeoutMs: 30_000 },
    ],
    { maxOldGenerationSizeMb: 16 },
  );
  t.is((await host.runInbound(inboundInput('before'))).kind, 'event');
  raise();
  // a hook past its budget: the worker is terminated, its replacement imports the module
  t.like(await host.convertForward(forward('hangs', {})), { error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  // starts once the boot wait is over, awaits the module's import, which kills the worker
  t.like(await host.runInbound(inboundInput('after')), { kind: 'failed', error: { code: BOOT } });
  const line = await sink.waitFor((l) => l.code === BOOT && l.level === 50, 30_000);
  t.like(line, { msg: 'plugin worker died while importing the plugins' });
  t.regex(String(line.reason), /memory/);
  t.true((await metrics.value('relay_pool_worker_deaths_total', { during: 'boot' })) >= 1);
  t.is(await metrics.value('relay_pool_worker_deaths_total', { during: 'task' }), 0);
  t.is(sink.withCode('CORE_ERR_PLUGIN_WORKER_DIED').length, 0);
  t.is(
    await metrics.value('relay_plugin_failures_total', {
      plugin: 'boot-late',
      code: 'CORE_ERR_PLUGIN_WORKER_DIED',
    }),
    0,
  );
  t.deepEqual(
    sink.lines.filter((l) => l.msg === 'plugin task failed' && l.level >= 40).map((l) => l.code),
    ['CORE_ERR_PLUGIN_TIMEOUT'],
  );
});
