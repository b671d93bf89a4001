/**
 * Time: the real CLI process frozen (SIGSTOP) past its keepalive deadline and resumed
 * (SIGCONT), as a suspended VM or a stopped container resumes.
 */
import test from 'ava';
import { startAgent } from '../helpers/loopback-agent.js';
import { startSidecarProcess } from '../helpers/sidecar-process.js';
import { textOf } from './agent-tools.js';
import {
  CHILD_TUNABLES,
  deepMergeAll,
  discordMessage,
  relayEnv,
  secretOf,
  startConnector,
  tempDir,
  until,
  WAIT,
} from './e2e-harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a freeze longer than the pong deadline: the healthy socket stays up, live frames sent meanwhile arrive', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const dataDir = tempDir(t);
  const connector = await startConnector(t, secret);
  const agent = await startAgent(t, { token });
  const proc = await startSidecarProcess(t, {
    env: { ...relayEnv(connector, secret, { url: agent.url, token, dataDir }), LOG_LEVEL: 'debug' },
    // the child tunables with a fast keepalive: a pong deadline the freeze overruns
    config: deepMergeAll(CHILD_TUNABLES, { relay: { pingIntervalMs: 200, pongTimeoutMs: 1_000 } }),
    configDir: dataDir,
  });
  t.teardown(() => proc.kill());
  const chat = { channel: 'c-1', user: 'u-1' };
  connector.send(discordMessage(chat, 'before', 'm-before'));
  await until(() => agent.deliveries.some((d) => textOf(d) === 'before'), WAIT, 'first delivery');
  const dials = connector.totalConnections();
  process.kill(proc.pid, 'SIGSTOP');
  try {
    await sleep(500);
    connector.send(discordMessage(chat, 'during', 'm-during'));
    await sleep(3_000);
  } finally {
    process.kill(proc.pid, 'SIGCONT');
  }
  await until(
    () => agent.deliveries.some((d) => textOf(d) === 'during'),
    WAIT,
    'the frame sent during the freeze',
  );
  await sleep(1_500);
  t.deepEqual(proc.withCode('CORE_ERR_TRANSPORT_PONG_TIMEOUT'), []);
  t.is(connector.totalConnections(), dials);
});
