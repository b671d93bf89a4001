/**
 * A freeze during the shutdown's drain: the real CLI is stopped (SIGSTOP) after SIGTERM, past its
 * whole shutdown budget, while the agent answers the delivery the drain waits for; resumed
 * (SIGCONT), every deadline of the drain has expired. The answer that came must still count:
 * otherwise the row stays pending and the agent gets the event again after the restart.
 */
import test from 'ava';
import { textOf } from './agent-tools.js';
import { discordMessage, until, WAIT } from './e2e-harness.js';
import { freezeFor, heldAnswer, sleep, startFreezeStack } from './freeze-stack.js';

/**
 * The shutdown budget: long enough for this (busy) test process to stop the CLI while the drain
 * still waits. Serial, like the other freeze tests.
 */
const BUDGET_MS = 3_000;
/** Past the budget and the CLI's forced exit (budget + 1 s), plus the 1 s pause threshold. */
const FREEZE_MS = BUDGET_MS + 3_000;

test.serial(
  'a delivery the agent answered during a freeze in the shutdown is not delivered again after the restart',
  async (t) => {
    const answer = heldAnswer('held');
    const { connector, agent, proc, restart } = await startFreezeStack(t, {
      config: { shutdown: { budgetMs: BUDGET_MS }, relay: { pingIntervalMs: 60_000 } },
      script: answer.script,
    });
    const chat = { channel: 'c-1', user: 'u-1' };
    connector.send(discordMessage(chat, 'held', 'm-held'));
    await until(answer.held, WAIT, 'the agent holding its answer');
    process.kill(proc.pid, 'SIGTERM');
    await proc.waitForLine((l) => l.msg === 'shutdown started');
    // the agent answers while the sidecar is stopped past its whole budget
    freezeFor(proc.pid, FREEZE_MS);
    answer.release();
    await proc.exited;
    await restart();
    // one session is delivered in order: 'after' comes once 'held' is settled
    connector.send(discordMessage(chat, 'after', 'm-after'));
    await until(() => agent.deliveries.some((d) => textOf(d) === 'after'), WAIT, 'the next delivery');
    t.is(agent.deliveries.filter((d) => textOf(d) === 'held').length, 1);
  },
);

test.serial(
  'an outbound result that arrives during a freeze in the shutdown’s wait for results is the answer',
  async (t) => {
    let answer!: (result: Record<string, unknown>) => void;
    const { connector, agent, proc, token } = await startFreezeStack(t, {
      config: { shutdown: { budgetMs: BUDGET_MS }, relay: { pingIntervalMs: 60_000 } },
    });
    const chat = { channel: 'c-1', user: 'u-1' };
    connector.send(discordMessage(chat, 'hello', 'm-hello'));
    await until(() => agent.deliveries.some((d) => textOf(d) === 'hello'), WAIT, 'first delivery');
    const held = new Promise<void>((resolve) => {
      connector.setRespond(
        () =>
          new Promise((result) => {
            answer = result;
            resolve();
          }),
      );
    });
    const call = proc.api('/v1/actions', {
      method: 'POST',
      token,
      body: JSON.stringify({ op: 'send', chat_id: chat.channel, content: 'across the stop' }),
    });
    await held;
    process.kill(proc.pid, 'SIGTERM');
    await proc.waitForLine((l) => l.msg === 'shutdown started');
    // the drain waits for the call's result (idle, not mid-callback) when the process stops; the
    // result arrives during the stop
    await sleep(300);
    freezeFor(proc.pid, FREEZE_MS);
    await sleep(100);
    answer({ success: true, message_id: 'm-stopped' });
    const res = await call;
    const body = (await res.json()) as { result?: Record<string, unknown> };
    t.like(body.result, { success: true, message_id: 'm-stopped' });
  },
);
