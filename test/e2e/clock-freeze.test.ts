/**
 * Time: the real CLI process frozen (SIGSTOP) past its keepalive deadline and resumed
 * (SIGCONT), as a suspended VM or a stopped container resumes.
 */
import test from 'ava';
import { textOf } from './agent-tools.js';
import { discordMessage, until, WAIT } from './e2e-harness.js';
import { chat, sleep, startFreezeStack } from './freeze-stack.js';

test('a freeze longer than the pong deadline: the healthy socket stays up, live frames sent meanwhile arrive', async (t) => {
  const { connector, agent, proc } = await startFreezeStack(t, {
    // the child tunables with a fast keepalive: a pong deadline the freeze overruns
    config: { relay: { pingIntervalMs: 200, pongTimeoutMs: 1_000 } },
  });
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
