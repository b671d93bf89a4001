/**
 * Relay deadlines across a freeze: the real CLI process stopped (SIGSTOP) past a deadline while
 * the answer it waits for arrives, then resumed (SIGCONT). On resume Node runs the expired timer
 * before it reads the socket that holds the answer; the verdict must wait for that input.
 */
import test, { type ExecutionContext } from 'ava';
import { defaultDescriptor } from '../../sidecar/dev-connector/default-descriptor.js';
import { DevConnector } from '../../sidecar/dev-connector/dev-connector.js';
import { textOf } from './agent-tools.js';
import { discordMessage, until, WAIT } from './e2e-harness.js';
import { chat, DEADLINE_MS, FREEZE_MS, freezeFor, sleep, startFreezeStack } from './freeze-stack.js';

/**
 * `POST /v1/actions` on a ready stack whose connector answers the outbound with what `respond`
 * returns (it gets the sidecar's pid to stop it); resolves with the call's result and the CLI.
 */
async function outboundAcross(
  t: ExecutionContext,
  respond: (connector: DevConnector, pid: number) => Promise<Record<string, unknown>>,
) {
  const { connector, agent, proc, token } = await startFreezeStack(t, {
    config: { relay: { outboundTimeoutMs: DEADLINE_MS, pingIntervalMs: 60_000 } },
  });
  connector.send(discordMessage(chat, 'hello', 'm-hello'));
  await until(() => agent.deliveries.some((d) => textOf(d) === 'hello'), WAIT, 'first delivery');
  connector.setRespond(() => respond(connector, proc.pid));
  const res = await proc.api('/v1/actions', {
    method: 'POST',
    token,
    body: JSON.stringify({ op: 'send', chat_id: chat.channel, content: 'across the freeze' }),
  });
  const body = (await res.json()) as { result?: Record<string, unknown> };
  return { proc, result: body.result };
}

test.serial(
  'an outbound result that arrives during a freeze longer than outboundTimeoutMs is the answer',
  async (t) => {
    // the connector answers while the sidecar is stopped, resumed well past the deadline
    const { proc, result } = await outboundAcross(t, async (_connector, pid) => {
      freezeFor(pid, FREEZE_MS);
      await sleep(100);
      return { success: true, message_id: 'm-frozen' };
    });
    t.like(result, { success: true, message_id: 'm-frozen' });
    t.deepEqual(proc.withCode('CORE_ERR_OUTBOUND_TIMEOUT'), []);
  },
);

test.serial(
  'an outbound result behind a backlog larger than the socket buffer, all sent during a freeze, is the answer',
  async (t) => {
    // 8 MiB of frames the sidecar reads and ignores (an unknown type) ahead of the result: one
    // poll phase reads what the kernel holds, the rest arrives over further turns
    const pad = 'x'.repeat(256 * 1024);
    const { result } = await outboundAcross(t, async (connector, pid) => {
      await sleep(100);
      freezeFor(pid, FREEZE_MS);
      await sleep(100);
      for (let i = 0; i < 32; i++) connector.send({ type: 'x_backlog', pad });
      return { success: true, message_id: 'm-behind' };
    });
    t.like(result, { success: true, message_id: 'm-behind' });
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
