/**
 * Plugin code can post on its worker's parentPort, the port the pool reads its stray reports and
 * exit notes from (docs/decisions.md, "Stray errors", "Exit attempts"): what a forged message can
 * put in the log or the metrics is bounded as the worker's own reports are.
 */
import test from 'ava';
import { MAX_STRAY_REASON } from '../../../core/pool/stray-errors.js';
import { pluginModule } from '../../helpers/plugin-module.js';
import { ECHO, echoThread, inboundInput, startFixtureHost } from '../plugin-host/fixture-host.js';

const STRAY = 'CORE_ERR_PLUGIN_STRAY_ERROR';

/** Top-level code posting `messages` (JS source), in order, from a pool worker (not the start-up check). */
function posts(...messages: string[]): string {
  return (
    "const { parentPort, workerData } = await import('node:worker_threads');\n" +
    `if (workerData?.progress) { ${messages.map((m) => `parentPort.postMessage(${m});`).join(' ')} }`
  );
}

test("a forged stray report's reason is bounded and its URLs replaced, as a worker's own", async (t) => {
  const reason = `Error: https://user:secret@example.com/ ${'x'.repeat(100_000)}`;
  const message = `{ k: 'relay-stray-error', plugin: 'forger', count: 1, origin: 'exception', reason: ${JSON.stringify(reason)} }`;
  const module = pluginModule(t, 'forger', posts(message));
  const { host, sink } = await startFixtureHost(t, [ECHO, { name: 'forger', module }]);
  await echoThread(host);
  const line = await sink.waitFor((l) => l.code === STRAY, 10_000);
  t.like(line, { plugin: 'forger' });
  t.true(String(line.reason).length <= MAX_STRAY_REASON, `${String(line.reason).length} characters`);
  t.false(String(line.reason).includes('secret'));
});

test("a forged exit note cannot turn another plugin's timeout into a hook's process.exit", async (t) => {
  // the forger finds the running task's slot in the shared progress table and posts a note for it
  const forge =
    "inbound: async () => { const { parentPort, workerData, threadId } = await import('node:worker_threads');" +
    ' const progress = new Int32Array(workerData.progress); let slot = 0;' +
    ' for (let i = 0; i < progress.length; i++) if (progress[i] > progress[slot]) slot = i;' +
    ' const stamp = Math.floor(progress[slot] / 65536) * 65536;' +
    " parentPort.postMessage({ k: 'relay-worker-exit', slot, stamp, call: 'process.exit(FORGED)', thread: threadId }); }";
  const forger = pluginModule(t, 'note-forger', '', forge);
  const hangs = pluginModule(t, 'hangs', '', 'inbound: () => new Promise(() => undefined)');
  const { host } = await startFixtureHost(t, [
    ECHO,
    { name: 'note-forger', module: forger },
    { name: 'hangs', module: hangs, timeoutMs: 500 },
  ]);
  await echoThread(host);
  const outcome = await host.runInbound(inboundInput('hi'));
  t.like(outcome, { kind: 'failed', plugin: 'hangs', error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
});

test("a forger ending its own worker cannot make another task's timeout read as its exit", async (t) => {
  // notes for every task in flight, naming the forger's thread, which then ends by itself
  const forge =
    "inbound: async (input) => { if (input.event.text !== 'forge') return;" +
    " const { parentPort, workerData, threadId } = await import('node:worker_threads');" +
    ' const progress = new Int32Array(workerData.progress);' +
    ' for (let slot = 0; slot < progress.length; slot++) { if (progress[slot] <= 0) continue;' +
    ' const stamp = Math.floor(progress[slot] / 65536) * 65536;' +
    " parentPort.postMessage({ k: 'relay-worker-exit', slot, stamp, call: 'process.exit(FORGED)', thread: threadId }); }" +
    ' try { process.exit(3); } catch {} }';
  const hang = "inbound: (input) => (input.event.text === 'hang' ? new Promise(() => undefined) : undefined)";
  const forger = pluginModule(t, 'note-forger', '', forge);
  const hangs = pluginModule(t, 'hangs', '', hang);
  const { host } = await startFixtureHost(
    t,
    [ECHO, { name: 'note-forger', module: forger }, { name: 'hangs', module: hangs, timeoutMs: 3_000 }],
    { minThreads: 2, maxThreads: 2 },
  );
  await echoThread(host);
  const hung = host.runInbound(inboundInput('hang'));
  // the hanging task holds one worker; the forger runs in the other
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.like(await host.runInbound(inboundInput('forge')), { kind: 'failed', plugin: 'note-forger' });
  t.like(await hung, { kind: 'failed', plugin: 'hangs', error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
});

test("a forged boot note cannot blame another plugin's import", async (t) => {
  // at import in a pool worker, before the worker's own note: another plugin named as failed,
  // then a stray report on the same port, read after it (the port keeps their order)
  const note = "{ k: 'relay-worker-booted', failed: [{ name: 'echo', reason: 'FORGED import failure' }] }";
  const marker =
    "{ k: 'relay-stray-error', plugin: 'boot-forger', count: 1, origin: 'exception', reason: 'marker' }";
  const module = pluginModule(t, 'boot-forger', posts(note, marker));
  const { host, sink } = await startFixtureHost(t, [ECHO, { name: 'boot-forger', module }]);
  await echoThread(host);
  await sink.waitFor((l) => l.code === STRAY && l.reason === 'marker', 10_000);
  t.deepEqual(sink.withMsg('plugin failed to import in a pool worker'), []);
  t.deepEqual(sink.withCode('CORE_ERR_PLUGIN_LOAD_FAILED'), []);
});
