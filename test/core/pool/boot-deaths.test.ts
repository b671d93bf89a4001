/**
 * Pool workers that die while they import the plugins (docs/decisions.md, "Worker deaths"): a
 * module that passed the start check and loaded in the first worker, then runs every replacement
 * out of memory at import (here: once a file it looks for exists, as a module depending on a file
 * or on the worker it runs in would). The tasks sent to a booting worker failed as the first
 * chain position's hook (`plugin task failed`, blaming `echo`, one error line per event) and the
 * deaths were counted as `task` or `idle`; now they are counted as `boot`, logged at a bounded
 * rate with what to do, and the tasks fail transiently with their own code, blaming no hook.
 */
import test from 'ava';
import { flaggedPluginModule } from '../../helpers/plugin-module.js';
import { until } from '../../helpers/until.js';
import {
  ECHO,
  FAULT_TIMEOUT_MS,
  forward,
  inboundInput,
  startFixtureHost,
} from '../plugin-host/fixture-host.js';

const BOOT = 'CORE_ERR_PLUGIN_WORKER_BOOT_FAILED';
const LOOP = 'CORE_ERR_PLUGIN_WORKER_CRASH_LOOP';
const DEATHS = 'relay_pool_worker_deaths_total';

test('a module that runs every replacement worker out of memory at import: counted as boot deaths, logged once, tasks fail transiently blaming no hook', async (t) => {
  t.timeout(120_000);
  const { module, raise } = flaggedPluginModule(
    t,
    'boot-oom',
    '{ const hoard = []; for (;;) hoard.push(new Array(1_000_000).fill(hoard.length)); }',
  );
  const { host, sink, metrics } = await startFixtureHost(
    t,
    [ECHO, { name: 'fault-hangs', timeoutMs: FAULT_TIMEOUT_MS }, { name: 'boot-oom', module }],
    { maxOldGenerationSizeMb: 16 },
  );
  t.is((await host.convertForward(forward('echo', { text: 'before' }))).kind, 'events');
  raise();
  // a hook past its budget: the worker is terminated, its replacement imports the module
  t.like(await host.convertForward(forward('hangs', {})), {
    kind: 'failed',
    error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' },
  });
  for (let i = 0; i < 3; i++) {
    t.like(await host.convertForward(forward('echo', { text: `after ${i}` })), {
      kind: 'failed',
      error: { code: BOOT },
    });
  }
  const line = await sink.waitFor((l) => l.code === BOOT && l.level === 50, 30_000);
  t.like(line, {
    msg: 'plugin worker died while importing the plugins',
    plugins: ['echo', 'fault-hangs', 'boot-oom'],
  });
  t.regex(String(line.reason), /memory/);
  t.regex(String(line.action), /plugins\.json/);
  await sink.waitFor((l) => l.code === LOOP, 60_000);
  const deaths = await metrics.value(DEATHS, { during: 'boot' });
  t.true(deaths >= 5, String(deaths));
  // the replacements go on dying: still one line of each, no task failure blamed on a hook
  await until(async () => (await metrics.value(DEATHS, { during: 'boot' })) >= deaths + 2, 30_000);
  t.is(sink.lines.filter((l) => l.code === BOOT && l.level >= 40).length, 1);
  t.is(sink.withCode(LOOP).length, 1);
  t.is(await metrics.value(DEATHS, { during: 'task' }), 0);
  t.is(sink.withCode('CORE_ERR_PLUGIN_WORKER_DIED').length, 0);
  t.is(await metrics.value('relay_plugin_failures_total', { plugin: 'echo', code: BOOT }), 0);
});

test('a module that throws at import in a replacement worker: logged once with its name and reason, its hooks fail there', async (t) => {
  t.timeout(60_000);
  const { module, raise } = flaggedPluginModule(
    t,
    'boot-throws',
    "throw new Error('the file it needs is gone');",
    'inbound: () => undefined',
  );
  const { host, sink } = await startFixtureHost(t, [
    ECHO,
    { name: 'fault-hangs', timeoutMs: FAULT_TIMEOUT_MS },
    { name: 'boot-throws', module, timeoutMs: 10_000 },
  ]);
  t.is((await host.runInbound(inboundInput('before'))).kind, 'event');
  raise();
  t.like(await host.convertForward(forward('hangs', {})), { error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  const line = await sink.waitFor((l) => l.msg === 'plugin failed to import in a pool worker', 30_000);
  t.like(line, { code: 'CORE_ERR_PLUGIN_LOAD_FAILED', plugin: 'boot-throws', level: 50 });
  t.regex(String(line.reason), /the file it needs is gone/);
  t.regex(String(line.action), /plugins\.json/);
  t.like(await host.runInbound(inboundInput('after')), {
    kind: 'failed',
    plugin: 'boot-throws',
    error: { code: 'CORE_ERR_PLUGIN_LOAD_FAILED' },
  });
  t.is(sink.withMsg('plugin failed to import in a pool worker').length, 1);
});

test("a module whose import never ends in a replacement worker holds up only its own hooks: the other plugins' tasks run once the worker's boot wait is over", async (t) => {
  t.timeout(90_000);
  // as a module awaiting at its top level what never comes once the flag exists (a fetch with no
  // timeout to a host gone away); the interval keeps its worker alive, as the socket would
  const { module, raise } = flaggedPluginModule(
    t,
    'boot-hangs',
    'await new Promise(() => setInterval(() => undefined, 1_000));',
    'inbound: () => undefined',
  );
  const { host } = await startFixtureHost(t, [
    ECHO,
    { name: 'fault-hangs', timeoutMs: FAULT_TIMEOUT_MS },
    { name: 'boot-hangs', module },
  ]);
  t.is((await host.convertForward(forward('echo', { text: 'before' }))).kind, 'events');
  raise();
  // a hook past its budget: the worker is terminated, its replacement's import of the module hangs
  t.like(await host.convertForward(forward('hangs', {})), { error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  for (let i = 0; i < 3; i++) {
    t.like(await host.convertForward(forward('echo', { text: `after ${i}` })), { kind: 'events' });
  }
});
