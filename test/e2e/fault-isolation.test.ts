/**
 * Fault isolation through the real socket (issue 3): a manifest with every fault fixture plugin
 * (throws, garbage, infinite loop, memory hog, process.exit, hanging promise) beside the real
 * discord-interaction plugin. Their forwards come from the dev connector, buffered, each followed
 * by valid Discord forwards. The read loop keeps reading (no reconnect, later frames delivered),
 * each failure is logged once with the plugin name and code, transiently failed frames stay
 * un-acked until `inbox.maxAttempts` redeliveries and are then quarantined and acked, and a
 * malformed frame is acked and dead-lettered at once.
 */
import test from 'ava';
import type { ErrorCode } from '../../core/errors.js';
import { fixture } from '../core/plugin-host/fixture-host.js';
import { startAgent } from '../helpers/loopback-agent.js';
import { textOf } from './agent-tools.js';
import {
  ackCounts,
  ackOf,
  type Chat,
  forwardOf,
  manifestWithDiscord,
  secretOf,
  slashCommand,
  startConnector,
  startInProcess,
  until,
  WAIT,
} from './e2e-harness.js';

interface Fault {
  readonly plugin: string;
  readonly platform: string;
  readonly code: ErrorCode;
  readonly timeoutMs: number;
  /** The forward body; default `x`. */
  readonly body?: string;
}

/**
 * Short budgets for hangs and loops (the timeout is their failure); long ones for the rest, whose
 * own failure must end the task even on a loaded machine.
 */
const FAULTS: readonly Fault[] = [
  { plugin: 'fault-throws', platform: 'throws', code: 'CORE_ERR_PLUGIN_THREW', timeoutMs: 20_000 },
  // a well-shaped result holding an invalid event: the converter's defect, not a verdict on its input
  {
    plugin: 'fault-garbage',
    platform: 'garbage',
    code: 'CORE_ERR_PLUGIN_BAD_RESULT',
    timeoutMs: 20_000,
    body: 'bad-event',
  },
  { plugin: 'fault-loops', platform: 'loops', code: 'CORE_ERR_PLUGIN_TIMEOUT', timeoutMs: 250 },
  { plugin: 'fault-oom', platform: 'oom', code: 'CORE_ERR_PLUGIN_WORKER_DIED', timeoutMs: 20_000 },
  { plugin: 'fault-exits', platform: 'exits', code: 'CORE_ERR_PLUGIN_WORKER_DIED', timeoutMs: 20_000 },
  { plugin: 'fault-hangs', platform: 'hangs', code: 'CORE_ERR_PLUGIN_TIMEOUT', timeoutMs: 250 },
];
const MAX_ATTEMPTS = 2;
const CHAT: Chat = { channel: 'c-faults', user: 'u-faults' };

const TRANSIENT = 'transient failure, frame left unacked for redelivery';

test('faulty plugins fail only their own frames; valid Discord frames flow; transient frames are retried then quarantined', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const manifestPath = manifestWithDiscord(
    t,
    FAULTS.map((f) => ({ name: f.plugin, module: fixture(f.plugin), enabled: true, timeoutMs: f.timeoutMs })),
  );
  const connector = await startConnector(t, secret);
  const agent = await startAgent(t, { token });
  const sc = await startInProcess(t, {
    connector,
    secret,
    token,
    agentUrl: agent.url,
    manifestPath,
    config: {
      inbox: { maxAttempts: MAX_ATTEMPTS },
      pool: { minThreads: 1, maxThreads: 2, maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    },
  });
  const conn = await connector.waitForConnection(WAIT);

  // each fault frame is followed by a buffered and a live valid Discord forward
  const faultIds = new Map<string, Fault>();
  const validIds: string[] = [];
  const validTexts: string[] = [];
  FAULTS.forEach((fault, i) => {
    faultIds.set(
      connector.sendBuffered({
        type: 'passthrough_forward',
        forward: forwardOf(fault.platform, fault.body ?? 'x'),
      }),
      fault,
    );
    validIds.push(
      connector.sendBuffered(slashCommand(CHAT, `160000000000000${i}1`, 'after', `${fault.platform}-b`)),
    );
    connector.send(slashCommand(CHAT, `160000000000000${i}2`, 'after', `${fault.platform}-l`));
    validTexts.push(`/after ${fault.platform}-b`, `/after ${fault.platform}-l`);
  });
  // final verdicts: malformed input is acked and dead-lettered, never retried
  const rejected = [
    connector.sendBuffered({ type: 'passthrough_forward', forward: forwardOf('discord', 'not json {') }),
    connector.sendBuffered({
      type: 'passthrough_forward',
      forward: { ...forwardOf('discord', {}), bodyB64: '@@not base64@@' },
    }),
  ];
  const last = connector.sendBuffered(slashCommand(CHAT, '1600000000000000999', 'after', 'all'));
  validIds.push(last);
  validTexts.push('/after all');

  // ── attempt 1: valid frames delivered and acked; rejected frames acked; fault frames not acked
  for (const id of [...validIds, ...rejected]) await connector.waitFor(ackOf(id), WAIT);
  await until(
    () => validTexts.every((text) => agent.deliveries.some((d) => textOf(d) === text)),
    WAIT,
    'valid frames delivered',
  );
  await until(
    () =>
      [...faultIds.keys()].every((id) => sc.sink.lines.some((l) => l.msg === TRANSIENT && l.bufferId === id)),
    WAIT,
    'every fault frame failed once',
  );
  t.deepEqual(connector.pendingBuffered().sort(), [...faultIds.keys()].sort(), 'fault frames are not acked');
  t.is(connector.totalConnections(), 1, 'no fault cost the socket');
  t.is(sc.sidecar.state, 'ready');
  for (const fault of FAULTS) t.is(failuresOf(fault).length, 1, `${fault.plugin} logged once`);

  // ── redeliveries: each reconnect replays them, until maxAttempts ⇒ quarantined and acked
  let previous = conn;
  for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
    connector.drop();
    previous = await connector.waitForConnection(WAIT, previous);
    await until(
      () =>
        [...faultIds.keys()].every((id) =>
          sc.sink.lines.some(
            (l) => l.bufferId === id && (l.attempts === attempt || l.code === 'CORE_ERR_PLUGIN_QUARANTINED'),
          ),
        ),
      WAIT,
      `fault frames attempted ${attempt} times`,
    );
  }
  await until(() => connector.pendingBuffered().length === 0, WAIT, 'fault frames acked after quarantine');

  for (const fault of FAULTS) {
    const lines = failuresOf(fault);
    t.is(lines.length, MAX_ATTEMPTS, `${fault.plugin}: one line per attempt`);
    t.like(lines[0], { msg: 'plugin task failed', hook: 'convert', plugin: fault.plugin, code: fault.code });
  }
  const quarantined = sc.sink.withCode('CORE_ERR_PLUGIN_QUARANTINED');
  t.deepEqual(
    quarantined.map((l) => l.bufferId).sort(),
    [...faultIds.keys()].sort(),
    'each quarantined once',
  );
  const acks = ackCounts(connector);
  for (const id of faultIds.keys()) t.is(acks.get(id), 1, `${id} acked once, after quarantine`);

  const letters = sc.sidecar.inbox.deadLetters(100);
  t.is(letters.filter((l) => l.code === 'CORE_ERR_PLUGIN_QUARANTINED').length, FAULTS.length);
  t.is(letters.filter((l) => l.code === 'CORE_ERR_PLUGIN_REJECTED').length, 1, 'malformed JSON');
  t.is(letters.length, FAULTS.length + rejected.length, 'the invalid base64 frame too');
  t.is(letters.filter((l) => l.code === 'CORE_ERR_FRAME_SCHEMA').length, 1);
  // the bad frame was logged by the reader that skipped it, once
  t.is(sc.sink.withCode('CORE_ERR_FRAME_SCHEMA').filter((l) => l.component === 'relay-client').length, 1);

  // still healthy: a later valid frame goes straight through
  const afterAll = connector.sendBuffered(slashCommand(CHAT, '1600000000000001000', 'after', 'recovery'));
  await connector.waitFor(ackOf(afterAll), WAIT);
  await until(
    () => agent.deliveries.some((d) => textOf(d) === '/after recovery'),
    WAIT,
    'recovery delivered',
  );
  t.is(sc.sidecar.inbox.stats().dead, letters.length);

  function failuresOf(fault: Fault) {
    return sc.sink.lines.filter((l) => l.plugin === fault.plugin && l.level >= 40);
  }
});
