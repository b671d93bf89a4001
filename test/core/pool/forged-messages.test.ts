/**
 * Plugin code can post on its worker's parentPort, the port the pool reads its stray reports and
 * exit notes from (docs/decisions.md, "Stray errors", "Exit attempts"): what a forged message can
 * put in the log or the metrics is bounded as the worker's own reports are.
 */
import test from 'ava';
import { MAX_STRAY_REASON } from '../../../core/pool/stray-errors.js';
import { pluginModule } from '../../helpers/plugin-module.js';
import { ECHO, echoThread, startFixtureHost } from '../plugin-host/fixture-host.js';

const STRAY = 'CORE_ERR_PLUGIN_STRAY_ERROR';

/** Top-level code posting `message` (JS source) from a pool worker (not the start-up check). */
function posts(message: string): string {
  return (
    "const { parentPort, workerData } = await import('node:worker_threads');\n" +
    `if (workerData?.progress) parentPort.postMessage(${message});`
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
