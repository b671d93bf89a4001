/**
 * A freeze during the shutdown's drain, the real CLI stopped (SIGSTOP) after SIGTERM and resumed
 * (SIGCONT): the pause is not the drain's work, so it must neither cut the later steps short nor
 * turn an answer that came during the stop into a timeout.
 */
import test from 'ava';
import { DevConnector } from '../../sidecar/dev-connector/dev-connector.js';
import { discordMessage, outboundWhere, until, WAIT } from './e2e-harness.js';
import { chat, freezeFor, heldAnswer, sleep, startFreezeStack } from './freeze-stack.js';

/**
 * The shutdown budget: long enough for this (busy) test process to stop the CLI mid-drain, and
 * for the steps after the freeze on a loaded machine (at 3 s a CI run beside other tests cut the
 * inbox's close short, with no freeze to blame).
 */
const BUDGET_MS = 6_000;
/** Past the whole budget, and past the 1 s pause threshold. */
const FREEZE_MS = BUDGET_MS + 3_000;

test.serial('a going_idle_ack that arrives during a freeze is the ack, not a timeout', async (t) => {
  const { connector, proc } = await startFreezeStack(t, {
    config: {
      shutdown: { budgetMs: BUDGET_MS },
      relay: { pingIntervalMs: 60_000, shutdownGoingIdleTimeoutMs: 1_000 },
    },
    connector: (secret) => DevConnector.start({ secrets: [secret], answerGoingIdle: false }),
  });
  process.kill(proc.pid, 'SIGTERM');
  await connector.waitFor((f) => f.dir === 'in' && f.frame.type === 'going_idle');
  // the sidecar waits (idle) for the ack when it stops; the ack arrives during the stop
  await sleep(300);
  freezeFor(proc.pid, FREEZE_MS);
  await sleep(100);
  connector.send({ type: 'going_idle_ack' });
  await proc.exited;
  t.deepEqual(proc.withCode('CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT'), []);
  t.deepEqual(proc.withMsg('going_idle not acknowledged; closing anyway'), []);
});

test.serial(
  'a freeze during the drain is not charged to its budget: no step is cut short, the reply goes out',
  async (t) => {
    const answer = heldAnswer('held', {
      actions: [{ op: 'send', chat_id: chat.channel, content: 'the reply' }],
    });
    const { connector, proc } = await startFreezeStack(t, {
      config: { shutdown: { budgetMs: BUDGET_MS }, relay: { pingIntervalMs: 60_000 } },
      script: answer.script,
    });
    connector.send(discordMessage(chat, 'held', 'm-held'));
    await until(answer.held, WAIT, 'the agent holding its answer');
    process.kill(proc.pid, 'SIGTERM');
    await proc.waitForLine((l) => l.msg === 'shutdown started');
    // the drain waits (idle) for the delivery when the process stops; the agent answers meanwhile
    await sleep(300);
    freezeFor(proc.pid, FREEZE_MS);
    await sleep(100);
    answer.release();
    const exit = await proc.exited;
    // was: the wait for deliveries in flight ended at the resume and the runner of response actions
    // was stopped before the reply was read; it stayed stored until a next start
    t.truthy(connector.frames.find(outboundWhere((a) => a.content === 'the reply')));
    t.deepEqual(proc.withCode('CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED'), []);
    t.is(proc.withMsg('shutdown complete').length, 1);
    t.like(exit, { code: 0 });
  },
);
