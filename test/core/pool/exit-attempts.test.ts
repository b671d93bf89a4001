/**
 * A plugin's process.exit in the pool's workers (docs/decisions.md, "Exit attempts"). Made by a
 * timer — at a module's top level or left behind by a hook — it ended every worker that imported
 * the module, silently (piscina reports no error for a worker with no task): a crash loop. Now it
 * is a stray error and the worker goes on. Made by a hook, it fails that item with
 * CORE_ERR_PLUGIN_WORKER_DIED and the worker is replaced, even when the hook catches the throw.
 * Each plugin is a real module file in a temp dir, loaded by a real host.
 */
import test from 'ava';
import { pluginModule } from '../../helpers/plugin-module.js';
import { ECHO, echoThread, inboundInput, startFixtureHost } from '../plugin-host/fixture-host.js';

const STRAY = 'CORE_ERR_PLUGIN_STRAY_ERROR';
const DIED = 'CORE_ERR_PLUGIN_WORKER_DIED';

for (const [name, call, said] of [
  ['exit-timer', 'process.exit(1)', 'process.exit(1)'],
  ['really-exit-timer', 'process.reallyExit(4)', 'process.reallyExit(4)'],
  ['kill-timer', 'process.kill(process.pid)', 'SIGTERM'],
] as const) {
  test(`a top-level timer calling ${call} is a stray error: the worker survives`, async (t) => {
    // late enough to fire after the start-up check let the module through, in the worker
    const module = pluginModule(t, name, `setTimeout(() => ${call}, 200);`);
    const { host, sink, metrics } = await startFixtureHost(t, [ECHO, { name, module }]);
    const before = await echoThread(host);
    const line = await sink.waitFor((l) => l.code === STRAY, 10_000);
    t.like(line, { msg: 'plugin stray error', plugin: name, origin: 'exception' });
    t.true(String(line.reason).includes(said), String(line.reason));
    t.true(String(line.reason).endsWith('called outside any hook'), String(line.reason));
    t.is(await echoThread(host), before, 'the same worker still runs');
    t.is(sink.withCode(DIED).length, 0);
    t.is(await metrics.value('relay_plugin_stray_errors_total', { plugin: name }), 1);
    t.is(await metrics.value('relay_pool_worker_deaths_total', { during: 'idle' }), 0);
  });
}

test('a timer a hook left behind that calls process.exit is stray; the hook succeeded', async (t) => {
  const module = pluginModule(
    t,
    'leaves-exit',
    '',
    'inbound: () => { setTimeout(() => process.exit(2), 5); }',
  );
  const { host, sink } = await startFixtureHost(t, [ECHO, { name: 'leaves-exit', module }]);
  const before = await echoThread(host);
  t.like(await host.runInbound(inboundInput('hi')), { kind: 'event' });
  const line = await sink.waitFor((l) => l.code === STRAY, 10_000);
  t.like(line, { plugin: 'leaves-exit', reason: 'process.exit(2) called outside any hook' });
  t.is(await echoThread(host), before);
  t.is(host.stats().failed, 0);
});

for (const [name, hook] of [
  ['hook-exits', 'inbound: () => process.exit(3)'],
  [
    'hook-exits-later',
    'inbound: async () => { await new Promise((r) => setTimeout(r, 5)); process.exit(3); }',
  ],
  ['hook-swallows', 'inbound: () => { try { process.exit(3); } catch {} return undefined; }'],
] as const) {
  test(`${name}: the item fails with ${DIED}, the worker is replaced, the next task runs`, async (t) => {
    const module = pluginModule(t, name, '', hook);
    const { host, sink, metrics } = await startFixtureHost(t, [ECHO, { name, module, timeoutMs: 20_000 }]);
    const before = await echoThread(host);
    const outcome = await host.runInbound(inboundInput('hi'));
    t.like(outcome, { kind: 'failed', plugin: name, error: { code: DIED } });
    const message = outcome.kind === 'failed' ? outcome.error.message : '';
    t.true(message.startsWith('hook called process.exit(3)'), message);
    t.not(await echoThread(host), before, 'a new worker runs the next task');
    t.is(sink.withCode(STRAY).length, 0);
    const lines = sink.withCode(DIED);
    t.is(lines.length, 1, 'logged once, by the task');
    t.like(lines[0], { msg: 'plugin task failed', plugin: name });
    t.is(await metrics.value('relay_pool_worker_deaths_total', { during: 'idle' }), 0);
    t.is(await metrics.value('relay_pool_worker_deaths_total', { during: 'task' }), 0);
  });
}

test('in a batch, only the item whose hook exits fails; the others are delivered', async (t) => {
  const hook = "inbound: (input) => { if (input.event.text === 'exit') process.exit(1); }";
  const module = pluginModule(t, 'exits-on-cue', '', hook);
  const { host } = await startFixtureHost(t, [ECHO, { name: 'exits-on-cue', module, timeoutMs: 20_000 }]);
  await echoThread(host);
  // submitted in one turn: one pool task on the single worker
  const outcomes = await Promise.all(['a', 'exit', 'b'].map((text) => host.runInbound(inboundInput(text))));
  t.deepEqual(
    outcomes.map((o) => (o.kind === 'failed' ? o.error.code : o.kind)),
    ['event', DIED, 'event'],
  );
});

test("a hook's process.exit still ends its worker when a process 'exit' listener throws", async (t) => {
  // the real exit emits the thread's process 'exit' first: a plugin's listener that throws there
  // must not keep alive a worker whose task was told it was replaced
  const prelude = "process.on('exit', () => { throw new Error('cleanup failed'); });";
  const module = pluginModule(t, 'exit-listener', prelude, 'inbound: () => process.exit(3)');
  const { host, sink } = await startFixtureHost(t, [
    ECHO,
    { name: 'exit-listener', module, timeoutMs: 20_000 },
  ]);
  const before = await echoThread(host);
  const outcome = await host.runInbound(inboundInput('hi'));
  t.like(outcome, { kind: 'failed', plugin: 'exit-listener', error: { code: DIED } });
  t.not(await echoThread(host), before, 'a new worker runs the next task');
  t.is(sink.withCode(STRAY).length, 0);
});

test("a module's uncaughtException listener calling process.exit ends only its worker, not the process", async (t) => {
  // a common CLI idiom in a dependency: the listener's throw makes node end the thread, and
  // node's own end of a dying worker calls process.exit; a throw there aborted the whole process
  // (SIGABRT). The stray throw comes from a timer the hook leaves behind, so it fires after that
  // task has its reply however slow the machine (a top-level timer could fire during one)
  const prelude = "process.on('uncaughtException', () => process.exit(1));";
  const hook = "inbound: () => { setTimeout(() => { throw new Error('late'); }, 200); return undefined; }";
  const module = pluginModule(t, 'exits-on-uncaught', prelude, hook);
  const { host, sink } = await startFixtureHost(t, [ECHO, { name: 'exits-on-uncaught', module }]);
  await echoThread(host);
  t.like(await host.runInbound(inboundInput('hi')), { kind: 'event' });
  const line = await sink.waitFor((l) => l.msg === 'plugin worker died outside a task', 10_000);
  t.true(String(line.reason).includes('process.exit(1)'), String(line.reason));
  t.is(typeof (await echoThread(host)), 'number', 'the pool still runs tasks');
});

test('a pid whose valueOf answers differently per call cannot slip a signal to the sidecar past the check', async (t) => {
  // read once by the check (another pid), then again by node's kill (the sidecar's): the signal
  // went to the sidecar; SIGWINCH is harmless here, SIGTERM would have stopped it
  const hook =
    "inbound: () => { let calls = 0; process.kill({ valueOf: () => (calls++ === 0 ? 2147483647 : process.pid) }, 'SIGWINCH'); }";
  const module = pluginModule(t, 'shifty-pid', '', hook);
  const { host } = await startFixtureHost(t, [ECHO, { name: 'shifty-pid', module, timeoutMs: 20_000 }]);
  const outcome = await host.runInbound(inboundInput('hi'));
  // the pid as first read is signalled: no such process
  t.like(outcome, { kind: 'failed', plugin: 'shifty-pid', error: { code: 'CORE_ERR_PLUGIN_THREW' } });
  const message = outcome.kind === 'failed' ? outcome.error.message : '';
  t.true(message.includes('ESRCH'), message);
});
