/**
 * Push delivery while the agent is down, against a real loopback agent (answering 503, or its
 * port refusing connections) with many sessions waiting: once consecutive attempts found it
 * down, it sees one request at a time, one per step of the shared backoff (the inbox runs on a
 * manual clock, so a step is the test advancing it), the probes taking turns among sessions;
 * when it is back every session goes on at once, in order, each delivery answered 2xx once.
 * A 4xx for one delivery is not the agent being down.
 */
import test from 'ava';
import { FakeClock } from '../../core/transport/fake-clock.js';
import { AgentGate } from '../../e2e/agent-tools.js';
import { LEVELS } from '../../helpers/log-sink.js';
import { type RecordedDelivery, startAgent } from '../../helpers/loopback-agent.js';
import {
  type InboxHarness,
  inbound,
  pushTo,
  rows,
  sharedHost,
  startInbox,
  TOKEN,
  until,
} from '../inbox/inbox-harness.js';

const host = sharedHost();
const UNREACHABLE = 'CORE_ERR_DELIVERY_AGENT_UNREACHABLE';
const CHATS = Array.from({ length: 12 }, (_, i) => `G${i}`);
const PER_CHAT = 3;
/** Past every backoff of the config below (retryMaxMs), so one step always reaches the next probe. */
const STEP_MS = 400;
const agentConfig = (url: string) => pushTo(url, { concurrency: 4, retryBaseMs: 100, retryMaxMs: STEP_MS });

const text = (d: RecordedDelivery) => d.envelope?.event?.text as string;

/** Queue PER_CHAT messages in each chat, round robin; the texts each session must get, in order. */
function sendAll(h: InboxHarness): Map<string, string[]> {
  const expected = new Map<string, string[]>();
  for (let i = 0; i < PER_CHAT; i++) {
    for (const chat of CHATS) {
      h.inbox.routes.inbound(inbound({ text: `${chat}-${i}`, chat }));
      expected.set(chat, [...(expected.get(chat) ?? []), `${chat}-${i}`]);
    }
  }
  return expected;
}

/** The gate opened and nothing is in flight: from here on only probes reach the agent. */
async function waitUntilOpenAndQuiet(h: InboxHarness): Promise<void> {
  await until(() => h.sink.withCode(UNREACHABLE).length > 0, 10_000, 'the agent found unreachable');
  await until(() => h.inbox.stats().inflight === 0, 10_000, 'attempts in flight ended');
}

/** Every row delivered; each session's texts in the order of their 2xx answers. */
async function checkDelivered(
  t: import('ava').ExecutionContext,
  h: InboxHarness,
  acked: readonly RecordedDelivery[],
  expected: Map<string, string[]>,
): Promise<void> {
  await until(() => rows(h).every((r) => r.state === 'delivered'), 10_000, 'every row delivered');
  t.is(rows(h).length, CHATS.length * PER_CHAT);
  // at-least-once, and no more: each delivery answered 2xx exactly once
  t.is(new Set(acked.map((d) => d.id)).size, acked.length, 'no delivery answered 2xx twice');
  for (const chat of CHATS) {
    const got = acked.filter((d) => d.envelope?.session_key?.endsWith(`:${chat}`)).map(text);
    t.deepEqual(got, expected.get(chat), chat);
  }
}

test('agent answering 503: one request at a time while it is down, one per backoff step; when it is back every session goes, in order, once', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  let down = true;
  let inFlight = 0;
  let most = 0;
  const acked: RecordedDelivery[] = [];
  agent.setScript(async (d) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    // answers overlap if requests come together: a few ms each
    await new Promise((resolve) => setTimeout(resolve, 3));
    inFlight -= 1;
    if (down) return { status: 503 };
    acked.push(d);
    return {};
  });
  const clock = new FakeClock(Date.now());
  const h = await startInbox(t, host(), { clock, config: agentConfig(agent.url) });
  const expected = sendAll(h);
  await waitUntilOpenAndQuiet(h);
  const [line] = h.sink.withCode(UNREACHABLE);
  t.like(line, { level: LEVELS.warn, reason: 'HTTP 503', status: 503, failures: 3, pending: 36 });
  t.is(await h.metrics.value('relay_agent_unreachable'), 1);
  t.like(h.inbox.stats().agent, { reachable: false, reason: 'HTTP 503', failed_probes: 0 });

  // each step of the backoff lets exactly one request through, never two at once
  const before = agent.deliveries.length;
  most = 0;
  const STEPS = 5;
  for (let i = 1; i <= STEPS; i++) {
    clock.advance(STEP_MS);
    await agent.waitFor(before + i);
    await until(() => h.inbox.stats().inflight === 0, 10_000, `probe ${i} settled`);
    t.is(agent.deliveries.length, before + i, `step ${i}: one probe`);
  }
  t.is(most, 1, 'the agent never saw two requests at once while down');
  t.like(h.inbox.stats().agent, { reachable: false, failed_probes: STEPS });
  // the probes took turns among the waiting sessions (a delivery the agent cannot take holds nothing)
  const probed = agent.deliveries.slice(before).map((d) => d.envelope?.session_key);
  t.is(new Set(probed).size, STEPS, probed.join(' '));
  // one warning said the agent was down: the failures behind it are at debug, not one per session
  const warned = h.sink.withCode('CORE_ERR_DELIVERY_FAILED').filter((l) => l.level >= LEVELS.warn);
  t.true(warned.length <= 2, `${warned.length} failure warnings`);

  down = false;
  clock.advance(STEP_MS);
  await checkDelivered(t, h, acked, expected);
  t.is(h.sink.withCode(UNREACHABLE).length, 1);
  const back = h.sink.withMsg('agent reachable again');
  t.is(back.length, 1);
  t.is(back[0]?.downMs, (STEPS + 1) * STEP_MS);
  t.is(await h.metrics.value('relay_agent_unreachable'), 0);
  t.deepEqual(h.inbox.stats().agent, {
    reachable: true,
    unreachable_since: null,
    reason: null,
    failed_probes: 0,
  });
});

test('agent refusing connections: one attempt per backoff step while down, then every session delivered', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  const acked: RecordedDelivery[] = [];
  agent.setScript((d) => {
    acked.push(d);
    return {};
  });
  const port = await AgentGate.start(agent, false);
  t.teardown(() => port.down());
  const clock = new FakeClock(Date.now());
  const h = await startInbox(t, host(), { clock, config: agentConfig(port.url) });
  const expected = sendAll(h);
  await waitUntilOpenAndQuiet(h);
  t.like(h.sink.withCode(UNREACHABLE)[0], { reason: 'ECONNREFUSED' });
  // nothing reaches the agent: count the attempts the sidecar made
  const failed = () => h.metrics.value('relay_deliveries_total', { outcome: 'failed' });
  const before = await failed();
  for (let i = 1; i <= 3; i++) {
    clock.advance(STEP_MS);
    await until(async () => (await failed()) === before + i, 10_000, `probe ${i} refused`);
    await until(() => h.inbox.stats().inflight === 0, 10_000, `probe ${i} settled`);
  }
  t.is(await failed(), before + 3);
  await port.up();
  clock.advance(STEP_MS);
  await checkDelivered(t, h, acked, expected);
  t.is(h.sink.withMsg('agent reachable again').length, 1);
});

test('a Retry-After holds every session, not only the delivery it answered', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.reply({ status: 429, headers: { 'retry-after': '1' } });
  const acked: RecordedDelivery[] = [];
  agent.setScript((d) => {
    acked.push(d);
    return {};
  });
  const clock = new FakeClock(Date.now());
  const h = await startInbox(t, host(), {
    clock,
    config: pushTo(agent.url, { concurrency: 1, retryBaseMs: 100, retryMaxMs: 5_000 }),
  });
  const expected = sendAll(h);
  await waitUntilOpenAndQuiet(h);
  t.like(h.sink.withCode(UNREACHABLE)[0], { reason: 'HTTP 429', status: 429 });
  clock.advance(999);
  // a probe let through would be in flight once the callbacks queued by the advance have run
  await new Promise((resolve) => setImmediate(resolve));
  t.is(h.inbox.stats().inflight, 0, 'no session sends during the Retry-After');
  t.is(agent.deliveries.length, 1);
  clock.advance(1);
  await checkDelivered(t, h, acked, expected);
});

test("a delivery's own backoff starts over after the agent was down: its failed probes do not stretch it", async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  // 503 (the gate opens), 503 (a probe), then a 422 for the next probe (the agent answers: the
  // gate closes, this delivery is rejected once), then 2xx
  agent.reply({ status: 503 }, { status: 503 }, { status: 422 });
  const clock = new FakeClock(Date.now());
  // random just under 1: each backoff is just under its ceiling (base 100: 99, 198, 396 ms)
  const h = await startInbox(t, host(), {
    clock,
    random: () => 0.99,
    config: pushTo(agent.url, {
      concurrency: 1,
      retryBaseMs: 100,
      retryMaxMs: STEP_MS,
      maxRejections: 5,
      unreachableAfterFailures: 1,
    }),
  });
  h.inbox.routes.inbound(inbound({ text: 'X', chat: 'B1' }));
  const settled = () => h.inbox.stats().inflight === 0;
  await agent.waitFor(1);
  await until(() => h.sink.withCode(UNREACHABLE).length === 1 && settled(), 10_000, 'open');
  clock.advance(99);
  await agent.waitFor(2);
  await until(() => settled() && h.inbox.stats().agent?.failed_probes === 1, 10_000, 'probe 1 failed');
  clock.advance(198);
  await agent.waitFor(3);
  await until(() => h.sink.withMsg('agent reachable again').length === 1 && settled(), 10_000, 'closed');
  // two failures behind it, but those were the agent's: the retry after the 422 waits 99 ms, not 396
  clock.advance(99);
  await agent.waitFor(4);
  await until(() => rows(h)[0]?.state === 'delivered', 10_000, 'delivered');
  t.deepEqual(
    agent.deliveries.map((d) => d.envelope?.attempt),
    [1, 2, 3, 4],
  );
});

test('a shutdown while the agent is unreachable loses nothing: what waited is delivered after the restart', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  let down = true;
  const acked: RecordedDelivery[] = [];
  agent.setScript((d) => {
    if (down) return { status: 503 };
    acked.push(d);
    return {};
  });
  const clock = new FakeClock(Date.now());
  const h = await startInbox(t, host(), { clock, config: agentConfig(agent.url) });
  const expected = sendAll(h);
  await waitUntilOpenAndQuiet(h);
  // close (budget 0) with every session waiting at the gate, and open the same store again
  const next = await h.reopen({ start: false });
  t.is(next.inbox.stats().pending, CHATS.length * PER_CHAT, 'nothing was lost or marked delivered');
  down = false;
  next.inbox.start();
  await checkDelivered(t, next, acked, expected);
});

test('4xx rejections of deliveries, however many in a row, do not mark the agent unreachable', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  const acked: RecordedDelivery[] = [];
  agent.setScript((d) => {
    if (text(d).endsWith('-bad')) return { status: 422 };
    acked.push(d);
    return {};
  });
  const h = await startInbox(t, host(), {
    config: pushTo(agent.url, { concurrency: 4, maxRejections: 3, unreachableAfterFailures: 2 }),
  });
  for (const chat of ['R0', 'R1', 'R2']) h.inbox.routes.inbound(inbound({ text: `${chat}-bad`, chat }));
  for (const chat of ['R0', 'R1', 'R2']) h.inbox.routes.inbound(inbound({ text: `${chat}-good`, chat }));
  await until(() => h.inbox.stats().dead === 3 && acked.length === 3, 10_000, 'rejected, then delivered');
  t.is(agent.deliveries.length, 12, 'three rejections each, then the good ones');
  t.deepEqual(h.sink.withCode(UNREACHABLE), []);
  t.is(await h.metrics.value('relay_agent_unreachable'), 0);
  t.is(await h.metrics.value('relay_agent_outages_total'), 0);
});
