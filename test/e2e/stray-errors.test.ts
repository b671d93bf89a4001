/**
 * A plugin with stray errors through the real sidecar (real socket, pool, SQLite, HTTP agent): its
 * module starts an interval that throws, and its inbound hook leaves a rejection behind on every
 * event. The pool's workers used to die of it over and over (a crash loop), failing every event
 * that was running — a live frame, never redelivered, was lost to the agent. Now every live frame
 * is delivered, no worker dies, and the stray errors are logged once with the plugin's name.
 */
import test from 'ava';
import { startAgent } from '../helpers/loopback-agent.js';
import { pluginModule } from '../helpers/plugin-module.js';
import { textOf } from './agent-tools.js';
import {
  type Chat,
  manifestWithDiscord,
  secretOf,
  slashCommand,
  startConnector,
  startInProcess,
  until,
  WAIT,
} from './e2e-harness.js';

const CHAT: Chat = { channel: 'c-stray', user: 'u-stray' };

test('live frames are delivered while a plugin throws from a timer and leaves rejections behind', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const module = pluginModule(
    t,
    'stray-plugin',
    "setInterval(() => { throw new Error('tick'); }, 5);",
    "inbound: () => { Promise.reject(new Error('left behind')); return undefined; }",
  );
  const manifestPath = manifestWithDiscord(t, [{ name: 'stray-plugin', module }]);
  const connector = await startConnector(t, secret);
  const agent = await startAgent(t, { token });
  const sc = await startInProcess(t, {
    connector,
    secret,
    token,
    agentUrl: agent.url,
    manifestPath,
    config: { pool: { minThreads: 1, maxThreads: 2 } },
  });
  await connector.waitForConnection(WAIT);
  // the interval has thrown in the worker by now
  await until(() => sc.sink.withCode('CORE_ERR_PLUGIN_STRAY_ERROR').length > 0, WAIT, 'stray error logged');
  const texts: string[] = [];
  for (let i = 0; i < 5; i++) {
    connector.send(slashCommand(CHAT, `170000000000000${i}`, 'live', `n${i}`));
    texts.push(`/live n${i}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await until(
    () => texts.every((text) => agent.deliveries.some((d) => textOf(d) === text)),
    WAIT,
    'live frames delivered',
  );
  t.is(sc.sink.withCode('CORE_ERR_PLUGIN_WORKER_DIED').length, 0);
  t.is(sc.sink.withMsg('plugin task failed').length, 0);
  t.is(connector.totalConnections(), 1);
  const lines = sc.sink.withCode('CORE_ERR_PLUGIN_STRAY_ERROR');
  // the interval's and the hooks' under one name: one line within a minute, in every worker
  t.is(lines.length, 1, JSON.stringify(lines));
  t.like(lines[0], { plugin: 'stray-plugin' });
  t.is(sc.sidecar.inbox.deadLetters(10).length, 0);
});
