/**
 * Delivery deadlines across a freeze: the real CLI process stopped (SIGSTOP) past a deadline while
 * the agent's answer or the relay's handshake arrives, then resumed (SIGCONT).
 */
import test from 'ava';
import { defaultDescriptor } from '../../sidecar/dev-connector/default-descriptor.js';
import { DevConnector } from '../../sidecar/dev-connector/dev-connector.js';
import { textOf } from './agent-tools.js';
import { discordMessage, outboundWhere, until, WAIT } from './e2e-harness.js';
import { chat, DEADLINE_MS, FREEZE_MS, freezeFor, sleep, startFreezeStack } from './freeze-stack.js';

test.serial(
  'a delivery the agent answered 2xx during a freeze longer than agent.timeoutMs is not retried',
  async (t) => {
    let pid = 0;
    let frozen = false;
    const { connector, agent, proc } = await startFreezeStack(t, {
      config: { agent: { timeoutMs: DEADLINE_MS }, relay: { pingIntervalMs: 60_000 } },
      script: async (delivery) => {
        if (textOf(delivery) !== 'frozen' || frozen) return {};
        // the answer leaves while the sidecar is stopped; it resumes well past its deadline
        frozen = true;
        freezeFor(pid, FREEZE_MS);
        await sleep(100);
        return { status: 200 };
      },
    });
    pid = proc.pid;
    connector.send(discordMessage(chat, 'frozen', 'm-frozen'));
    // one session is delivered in order: 'after' comes once 'frozen' is settled
    connector.send(discordMessage(chat, 'after', 'm-after'));
    await until(() => agent.deliveries.some((d) => textOf(d) === 'after'), WAIT, 'the next delivery');
    t.is(agent.deliveries.filter((d) => textOf(d) === 'frozen').length, 1);
  },
);

test.serial(
  'a response action waiting for the relay keeps waiting when the connection is back during a freeze',
  async (t) => {
    let holdHandshake = false;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { connector, agent, proc } = await startFreezeStack(t, {
      // the action waits for a connection at most outboundTimeoutMs in all
      config: { relay: { outboundTimeoutMs: DEADLINE_MS, pingIntervalMs: 60_000 } },
      connector: (secret) =>
        DevConnector.start({
          secrets: [secret],
          descriptorFor: (hello) => (holdHandshake ? null : defaultDescriptor(hello.platform)),
        }),
      script: async (delivery) => {
        if (textOf(delivery) !== 'reply-me') return {};
        await released;
        return { actions: [{ op: 'send', chat_id: chat.channel, content: 'the reply' }] };
      },
    });
    connector.send(discordMessage(chat, 'reply-me', 'm-reply-me'));
    await until(
      () => agent.deliveries.some((d) => textOf(d) === 'reply-me'),
      WAIT,
      'the agent holding its reply',
    );
    // the relay is down (a reconnect whose descriptor is held) when the reply comes
    holdHandshake = true;
    const first = await connector.waitForConnection();
    connector.drop();
    const conn = await connector.waitForConnection(WAIT, first);
    release();
    await proc.waitForLine((l) => l.msg === 'response action waits for the relay connection', WAIT);
    // the connection completes while the sidecar is stopped past the action's wait: stopped once
    // it is idle (not mid-callback), sent once the stop took hold
    await sleep(100);
    freezeFor(proc.pid, FREEZE_MS);
    await sleep(100);
    connector.send({ type: 'descriptor', descriptor: defaultDescriptor('discord') }, { conn });
    const sent = await connector.waitFor(
      outboundWhere((a) => a.content === 'the reply'),
      WAIT + FREEZE_MS,
    );
    t.truthy(sent);
    t.deepEqual(proc.withCode('CORE_ERR_DELIVERY_ACTION_FAILED'), []);
  },
);
