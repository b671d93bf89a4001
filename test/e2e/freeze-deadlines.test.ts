/**
 * Deadlines across a freeze: the real CLI process stopped (SIGSTOP) past a deadline while the
 * answer it waits for arrives, then resumed (SIGCONT). On resume Node runs the expired timer
 * before it reads the socket that holds the answer; the verdict must wait for that input.
 */
import test from 'ava';
import { defaultDescriptor } from '../../sidecar/dev-connector/default-descriptor.js';
import { DevConnector } from '../../sidecar/dev-connector/dev-connector.js';
import { textOf } from './agent-tools.js';
import { discordMessage, outboundWhere, until, WAIT } from './e2e-harness.js';
import { freezeFor, sleep, startFreezeStack } from './freeze-stack.js';

/**
 * Each deadline below is {@link DEADLINE_MS}: long enough for this (busy) test process to answer
 * before it expires unfrozen. The stop lasts {@link FREEZE_MS} from the answer, so the deadline
 * fires at least 2 s late (past the 1 s pause threshold). Serial: parallel sidecars starting on
 * a shared machine slowed this process's answers past the deadline.
 */
const DEADLINE_MS = 1_000;
const FREEZE_MS = 3_000;

const chat = { channel: 'c-1', user: 'u-1' };

test.serial(
  'an outbound result that arrives during a freeze longer than outboundTimeoutMs is the answer',
  async (t) => {
    const { connector, agent, proc, token } = await startFreezeStack(t, {
      config: { relay: { outboundTimeoutMs: DEADLINE_MS, pingIntervalMs: 60_000 } },
    });
    connector.send(discordMessage(chat, 'hello', 'm-hello'));
    await until(() => agent.deliveries.some((d) => textOf(d) === 'hello'), WAIT, 'first delivery');
    // the connector answers while the sidecar is stopped, resumed well past the deadline
    connector.setRespond(async () => {
      freezeFor(proc.pid, FREEZE_MS);
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
  },
);

test.serial(
  'an outbound result behind a backlog larger than the socket buffer, all sent during a freeze, is the answer',
  async (t) => {
    const { connector, agent, proc, token } = await startFreezeStack(t, {
      config: { relay: { outboundTimeoutMs: DEADLINE_MS, pingIntervalMs: 60_000 } },
    });
    connector.send(discordMessage(chat, 'hello', 'm-hello'));
    await until(() => agent.deliveries.some((d) => textOf(d) === 'hello'), WAIT, 'first delivery');
    // 8 MiB of frames the sidecar reads and ignores (an unknown type) ahead of the result: one
    // poll phase reads what the kernel holds, the rest arrives over further turns
    const pad = 'x'.repeat(256 * 1024);
    connector.setRespond(async () => {
      await sleep(100);
      freezeFor(proc.pid, FREEZE_MS);
      await sleep(100);
      for (let i = 0; i < 32; i++) connector.send({ type: 'x_backlog', pad });
      return { success: true, message_id: 'm-behind' };
    });
    const res = await proc.api('/v1/actions', {
      method: 'POST',
      token,
      body: JSON.stringify({ op: 'send', chat_id: chat.channel, content: 'behind the backlog' }),
    });
    const body = (await res.json()) as { result?: Record<string, unknown> };
    t.like(body.result, { success: true, message_id: 'm-behind' });
  },
);

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
  'a pong that arrives during a freeze longer than the pong deadline keeps the socket',
  async (t) => {
    const { connector, proc } = await startFreezeStack(t, {
      config: { relay: { pingIntervalMs: 200, pongTimeoutMs: DEADLINE_MS } },
      connector: (secret) => DevConnector.start({ secrets: [secret], autoPong: false }),
    });
    const dials = connector.totalConnections();
    let phase: 'before' | 'frozen' | 'resumed' = 'before';
    let pingsAfter = 0;
    connector.onPing((_conn, pong) => {
      if (phase === 'resumed') pingsAfter++;
      if (phase !== 'before') return pong();
      // the ping is answered while the sidecar is stopped: its pong deadline expires in the stop
      phase = 'frozen';
      freezeFor(proc.pid, FREEZE_MS);
      pong();
      setTimeout(() => {
        phase = 'resumed';
      }, FREEZE_MS);
    });
    // two pings after the resume: the expired deadline had its turn
    await until(
      () => pingsAfter >= 2 || connector.totalConnections() > dials,
      WAIT,
      'pings after the resume',
    );
    t.deepEqual(proc.withCode('CORE_ERR_TRANSPORT_PONG_TIMEOUT'), []);
    t.is(connector.totalConnections(), dials);
  },
);

test.serial(
  'a descriptor that arrives during a freeze longer than the handshake timeout completes the handshake',
  async (t) => {
    let pid = 0;
    let frozen = false;
    const { connector, proc } = await startFreezeStack(t, {
      config: { relay: { handshakeTimeoutMs: DEADLINE_MS } },
      connector: (secret) =>
        DevConnector.start({
          secrets: [secret],
          descriptorFor: (hello) => {
            if (!frozen && pid !== 0) {
              // the descriptor leaves while the sidecar is stopped
              frozen = true;
              freezeFor(pid, FREEZE_MS);
            }
            return defaultDescriptor(hello.platform);
          },
        }),
      noWait: true,
    });
    pid = proc.pid;
    await proc.waitReady();
    t.true(frozen);
    t.deepEqual(proc.withCode('CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT'), []);
    t.is(connector.totalConnections(), 1);
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
