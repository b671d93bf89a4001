/**
 * Deadlines across a freeze: the real CLI process stopped (SIGSTOP) past a deadline while the
 * answer it waits for arrives, then resumed (SIGCONT). On resume Node runs the expired timer
 * before it reads the socket that holds the answer; the verdict must wait for that input.
 */
import test from 'ava';
import { DevConnector } from '../../sidecar/dev-connector/dev-connector.js';
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

/** Longer than the deadlines below plus the pause threshold (1 s), so they fire late. */
const FREEZE_MS = 2_000;

test('an outbound result that arrives during a freeze longer than outboundTimeoutMs is the answer', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const dataDir = tempDir(t);
  const connector = await startConnector(t, secret);
  const agent = await startAgent(t, { token });
  const proc = await startSidecarProcess(t, {
    env: relayEnv(connector, secret, { url: agent.url, token, dataDir }),
    config: deepMergeAll(CHILD_TUNABLES, { relay: { outboundTimeoutMs: 300, pingIntervalMs: 60_000 } }),
    configDir: dataDir,
  });
  t.teardown(() => proc.kill());
  const chat = { channel: 'c-1', user: 'u-1' };
  connector.send(discordMessage(chat, 'hello', 'm-hello'));
  await until(() => agent.deliveries.some((d) => textOf(d) === 'hello'), WAIT, 'first delivery');
  // the connector answers while the sidecar is stopped, then resumes it well past the deadline
  connector.setRespond(async () => {
    process.kill(proc.pid, 'SIGSTOP');
    setTimeout(() => process.kill(proc.pid, 'SIGCONT'), FREEZE_MS);
    await sleep(100);
    return { success: true, message_id: 'm-frozen' };
  });
  const res = await proc.api('/v1/actions', {
    method: 'POST',
    token,
    body: JSON.stringify({ op: 'send', chat_id: chat.channel, content: 'across the freeze' }),
  });
  const body = (await res.json()) as { result?: Record<string, unknown> };
  t.is(res.status, 200);
  t.like(body.result, { success: true, message_id: 'm-frozen' });
  t.deepEqual(proc.withCode('CORE_ERR_OUTBOUND_TIMEOUT'), []);
});

test('a delivery the agent answered 2xx during a freeze longer than agent.timeoutMs is not retried', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const dataDir = tempDir(t);
  const connector = await startConnector(t, secret);
  let pid = 0;
  let frozen = false;
  const agent = await startAgent(t, {
    token,
    script: async (delivery) => {
      if (textOf(delivery) !== 'frozen' || frozen) return {};
      frozen = true;
      // the answer leaves while the sidecar is stopped; it resumes well past its deadline
      process.kill(pid, 'SIGSTOP');
      setTimeout(() => process.kill(pid, 'SIGCONT'), FREEZE_MS);
      await sleep(100);
      return { status: 200 };
    },
  });
  const proc = await startSidecarProcess(t, {
    env: relayEnv(connector, secret, { url: agent.url, token, dataDir }),
    config: deepMergeAll(CHILD_TUNABLES, { agent: { timeoutMs: 300 }, relay: { pingIntervalMs: 60_000 } }),
    configDir: dataDir,
  });
  pid = proc.pid;
  t.teardown(() => proc.kill());
  const chat = { channel: 'c-1', user: 'u-1' };
  connector.send(discordMessage(chat, 'frozen', 'm-frozen'));
  // one session is delivered in order: 'after' comes once 'frozen' is settled
  connector.send(discordMessage(chat, 'after', 'm-after'));
  await until(() => agent.deliveries.some((d) => textOf(d) === 'after'), WAIT, 'the next delivery');
  t.is(agent.deliveries.filter((d) => textOf(d) === 'frozen').length, 1);
});

test('a pong that arrives during a freeze longer than the pong deadline keeps the socket', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const dataDir = tempDir(t);
  const connector = await DevConnector.start({ secrets: [secret], autoPong: false });
  t.teardown(() => connector.close());
  const agent = await startAgent(t, { token });
  const proc = await startSidecarProcess(t, {
    env: relayEnv(connector, secret, { url: agent.url, token, dataDir }),
    config: deepMergeAll(CHILD_TUNABLES, { relay: { pingIntervalMs: 200, pongTimeoutMs: 300 } }),
    configDir: dataDir,
  });
  t.teardown(() => proc.kill());
  await proc.waitReady();
  const dials = connector.totalConnections();
  let phase: 'before' | 'frozen' | 'resumed' = 'before';
  let pingsAfter = 0;
  connector.onPing((_conn, pong) => {
    if (phase === 'resumed') pingsAfter++;
    if (phase !== 'before') return pong();
    // the ping is answered while the sidecar is stopped: its pong deadline expires in the stop
    phase = 'frozen';
    process.kill(proc.pid, 'SIGSTOP');
    pong();
    setTimeout(() => {
      phase = 'resumed';
      process.kill(proc.pid, 'SIGCONT');
    }, FREEZE_MS);
  });
  // two pings after the resume: the expired deadline had its turn
  await until(() => pingsAfter >= 2 || connector.totalConnections() > dials, WAIT, 'pings after the resume');
  t.deepEqual(proc.withCode('CORE_ERR_TRANSPORT_PONG_TIMEOUT'), []);
  t.is(connector.totalConnections(), dials);
});
