/**
 * Push delivery against a real loopback HTTP agent: signed POSTs, retries on 5xx / refused /
 * 429 / timeout with the same id and a growing attempt, 4xx rejections dead-lettered after
 * maxRejections, response actions executed in order after the delivery is durable.
 */
import test, { type ExecutionContext } from 'ava';
import { startAgent } from '../../helpers/loopback-agent.js';
import { inbound, pushTo, rows, sharedHost, startInbox, TOKEN, until } from '../inbox/inbox-harness.js';

const host = sharedHost();

/**
 * Assert the agent saw at least `min` deliveries of one delivery retried, its attempt growing each
 * time from 1; returns the number of attempts made (the last one's number). Not necessarily 1, 2,
 * 3, …: on a busy machine an attempt may time out before the agent has read it, and it never
 * sees that number, or finish reading it after its retry (both seen in full runs under load).
 */
function attemptsCountUp(
  t: ExecutionContext,
  deliveries: readonly { readonly envelope?: { readonly attempt?: number } }[],
  min: number,
): number {
  // sorted: the agent records them as it finishes reading, and a timed-out try still being read
  // can finish after its retry, which went on another connection
  const attempts = deliveries.map((d) => d.envelope?.attempt ?? 0).sort((a, b) => a - b);
  t.true(attempts.length >= min, `${attempts.length} deliveries, expected at least ${min}`);
  t.is(attempts[0], 1);
  t.true(
    attempts.every((a, i) => i === 0 || a > (attempts[i - 1] ?? 0)),
    `attempts ${attempts.join(', ')}: each try has its own number`,
  );
  return attempts.at(-1) ?? 0;
}

test('a delivery is POSTed with id, timestamp and a valid signature; 2xx marks it delivered', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  const h = await startInbox(t, host(), { config: pushTo(agent.url) });
  h.inbox.routes.inbound(inbound({ text: 'ping', chat: 'P1', bufferId: 'b-push' }));
  await agent.waitFor(1);
  const [d] = agent.deliveries;
  t.is(d?.method, 'POST');
  t.true(d?.signatureValid);
  t.is(d?.id, d?.envelope?.id);
  t.regex(d?.timestamp ?? '', /^\d{10}$/);
  t.is(d?.headers['content-type'], 'application/json');
  t.is(d?.envelope?.attempt, 1);
  t.is(d?.envelope?.session_key, 'agent:main:telegram:dm:P1');
  await until(() => rows(h)[0]?.state === 'delivered');
  t.is(await h.metrics.value('relay_deliveries_total', { outcome: 'delivered' }), 1);
  t.is(await h.metrics.value('relay_inbox_depth'), 0);
  t.is(h.inbox.stats().pending, 0);
  t.false(JSON.stringify(agent.deliveries.map((x) => x.headers)).includes(TOKEN));
});

test('5xx, refused, 429 and a timeout are retried with the same id and a growing attempt', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.reply(
    { status: 503 },
    { refuse: true },
    { status: 429, headers: { 'retry-after': '0' } },
    { hang: true },
  );
  const h = await startInbox(t, host(), { config: pushTo(agent.url, { timeoutMs: 300 }) });
  h.inbox.routes.inbound(inbound({ text: 'again', bufferId: 'b-retry' }));
  await until(() => rows(h)[0]?.state === 'delivered');
  // four scripted failures, then success (a busy machine may add a timed-out attempt)
  const n = attemptsCountUp(t, agent.deliveries, 5);
  t.is(new Set(agent.deliveries.map((d) => d.id)).size, 1);
  t.true(agent.deliveries.every((d) => d.signatureValid));
  t.is(await h.metrics.value('relay_delivery_retries_total'), n - 1);
  t.is(h.sink.withCode('CORE_ERR_DELIVERY_FAILED').length, n - 1);
  t.is(rows(h)[0]?.attempt, n);
});

test('Retry-After is honoured, up to agent.retryMaxMs', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  // an hour: the wait is capped at retryMaxMs; a backoff of its own would be at most 1 ms
  agent.reply({ status: 503, headers: { 'retry-after': '3600' } });
  const h = await startInbox(t, host(), {
    config: pushTo(agent.url, { retryBaseMs: 1, retryMaxMs: 1_500 }),
  });
  h.inbox.routes.inbound(inbound({ text: 'later', bufferId: 'b-after' }));
  await until(() => rows(h)[0]?.state === 'delivered');
  attemptsCountUp(t, agent.deliveries, 2);
  const [first, second] = agent.deliveries;
  // a lower bound only: the retry may come late on a busy machine, never early
  const gap = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
  t.true(gap >= 1_400, `the retry came ${gap} ms after the 503, expected the capped 1 500 ms`);
});

test('4xx answers are rejections: dead-lettered after maxRejections, the session moves on, replayable', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  let refuse = true;
  agent.setScript((d) => (refuse && d.envelope?.event?.text === 'bad' ? { status: 422 } : {}));
  const h = await startInbox(t, host(), { config: pushTo(agent.url, { maxRejections: 2 }) });
  h.inbox.routes.inbound(inbound({ text: 'bad', chat: 'R1' }));
  h.inbox.routes.inbound(inbound({ text: 'good', chat: 'R1' }));
  await agent.waitUntil((all) => all.some((d) => d.envelope?.event?.text === 'good'));
  t.deepEqual(
    agent.deliveries.map((d) => d.envelope?.event?.text),
    ['bad', 'bad', 'good'],
  );
  const stats = h.inbox.stats();
  t.is(stats.dead, 1);
  t.like(stats.dead_letters[0], { kind: 'delivery', code: 'CORE_ERR_DELIVERY_REJECTED' });
  t.is(stats.dead_letters[0]?.id, agent.deliveries[0]?.id, 'a delivery dead letter keeps the delivery id');
  t.is(h.sink.withCode('CORE_ERR_DELIVERY_REJECTED').length, 1);
  refuse = false;
  t.is(h.inbox.replay(stats.dead_letters[0]!.id), 'replayed');
  await agent.waitFor(4);
  t.is(agent.deliveries[3]?.id, agent.deliveries[0]?.id);
  t.is(agent.deliveries[3]?.envelope?.attempt, 3);
  await until(() => rows(h).every((r) => r.state === 'delivered'));
  t.is(h.inbox.stats().dead, 0);
});

test('a delivery dead-lettered on 401s says why an agent answers that: another API token, or its clock', async (t) => {
  // was: "the agent answered 401 3 times", in `dead-letters list` and /v1/status alike
  const agent = await startAgent(t, { token: TOKEN });
  agent.setScript(() => ({ status: 401 }));
  const h = await startInbox(t, host(), { config: pushTo(agent.url, { maxRejections: 2 }) });
  h.inbox.routes.inbound(inbound({ text: 'unsigned?', chat: 'R3' }));
  await until(() => h.inbox.stats().dead === 1);
  const [dead] = h.inbox.stats().dead_letters;
  t.regex(dead?.message ?? '', /^the agent answered 401 2 times: .*SIDECAR_API_TOKEN.*clock/);
  t.is(
    h.sink.withCode('CORE_ERR_DELIVERY_FAILED')[0]?.hint,
    h.sink.withCode('CORE_ERR_DELIVERY_REJECTED')[0]?.hint,
  );
  t.like(h.sink.withCode('CORE_ERR_DELIVERY_REJECTED')[0], {
    status: 401,
    hint: dead?.message.replace(/^[^:]*: /, ''),
  });
});

test('a replayed delivery gets maxRejections again: its rejection count starts over', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.setScript(() => ({ status: 422 }));
  const h = await startInbox(t, host(), { config: pushTo(agent.url, { maxRejections: 2 }) });
  h.inbox.routes.inbound(inbound({ text: 'still bad', chat: 'R2' }));
  await until(() => h.inbox.stats().dead === 1);
  t.is(agent.deliveries.length, 2);
  t.is(h.inbox.replay(h.inbox.stats().dead_letters[0]!.id), 'replayed');
  await until(() => h.inbox.stats().dead === 1 && agent.deliveries.length >= 4);
  t.deepEqual(
    agent.deliveries.map((d) => d.envelope?.attempt),
    [1, 2, 3, 4],
    'two attempts before the dead letter, two more after the replay',
  );
  t.is(h.sink.withCode('CORE_ERR_DELIVERY_REJECTED').length, 2);
});

test('actions in a response body run in order, per session, after the delivery is durable', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.setScript((d) => {
    const text = d.envelope?.event?.text as string;
    if (text === 'one')
      return {
        actions: [
          { op: 'send', n: 1 },
          { op: 'boom', n: 2 },
          { op: 'send', n: 3 },
        ],
      };
    if (text === 'two') return { actions: [{ op: 'send', n: 4 }] };
    return {};
  });
  const executed: { n: number; delivered: boolean }[] = [];
  let harness: Awaited<ReturnType<typeof startInbox>> | undefined;
  const h = await startInbox(t, host(), {
    config: pushTo(agent.url),
    async executeAction(raw) {
      const action = raw as { op: string; n: number };
      const states = harness ? rows(harness).map((r) => r.state) : [];
      executed.push({ n: action.n, delivered: states[action.n < 4 ? 0 : 1] === 'delivered' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (action.op === 'boom') throw new Error('the action failed');
      return { success: true };
    },
  });
  harness = h;
  h.inbox.routes.inbound(inbound({ text: 'one', chat: 'A1' }));
  h.inbox.routes.inbound(inbound({ text: 'two', chat: 'A1' }));
  await until(() => executed.length === 4);
  t.deepEqual(executed, [
    { n: 1, delivered: true },
    { n: 2, delivered: true },
    { n: 3, delivered: true },
    { n: 4, delivered: true },
  ]);
  const failed = h.sink.withCode('CORE_ERR_DELIVERY_ACTION_FAILED');
  t.is(failed.length, 1);
  t.like(failed[0], { op: 'boom', index: 1 });
  t.is(agent.deliveries.length, 2, 'a failing action never causes a re-delivery');
});

test('a broken response body still delivers; the actions are ignored with a stable code', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.reply(
    { body: '{"actions": [', headers: { 'content-type': 'application/json' } },
    { body: { actions: 'send' } },
  );
  const h = await startInbox(t, host(), { config: pushTo(agent.url) });
  h.inbox.routes.inbound(inbound({ text: 'x', chat: 'X1' }));
  h.inbox.routes.inbound(inbound({ text: 'y', chat: 'X2' }));
  await until(() => rows(h).length === 2 && rows(h).every((r) => r.state === 'delivered'));
  t.is(h.sink.withCode('CORE_ERR_DELIVERY_RESPONSE_INVALID').length, 2);
  t.deepEqual(h.actions, []);
  t.is(agent.deliveries.length, 2);
});

test('a 2xx body past maxBodyBytes delivers without running its actions; the next one goes through', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  const big = { actions: [{ op: 'send', chat_id: 'B1', text: 'x'.repeat(4_000) }] };
  agent.reply({ body: big }, { status: 500, body: 'y'.repeat(4_000) }, { actions: [] });
  const h = await startInbox(t, host(), {
    config: { ...pushTo(agent.url), api: { maxBodyBytes: 1_024 } },
  });
  h.inbox.routes.inbound(inbound({ text: 'big', chat: 'B1' }));
  h.inbox.routes.inbound(inbound({ text: 'after', chat: 'B1' }));
  await until(() => rows(h).length === 2 && rows(h).every((r) => r.state === 'delivered'));
  const [problem, ...more] = h.sink.withCode('CORE_ERR_DELIVERY_RESPONSE_INVALID');
  t.like(problem, { reason: 'body larger than maxBodyBytes' });
  t.is(more.length, 0);
  t.deepEqual(h.actions, []);
  // the 500 (its body read and dropped) was retried: three requests for two deliveries
  t.is(agent.deliveries.length, 3);
});

test('an answer that trickles past agent.timeoutMs is cut off and retried, a 2xx one too', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  // status line at once, then a byte every 20 ms: no single wait is long, the whole answer is
  agent.reply({ status: 500, trickleMs: 20 }, { status: 200, trickleMs: 20 });
  // 1 s: room for the first body bytes on a loaded machine (at 300 ms one CI run cut a trickle
  // before its first byte, and the mid-body check below failed)
  const h = await startInbox(t, host(), { config: pushTo(agent.url, { timeoutMs: 1_000 }) });
  h.inbox.routes.inbound(inbound({ text: 'slow', chat: 'T1' }));
  await until(() => rows(h)[0]?.state === 'delivered');
  const n = attemptsCountUp(t, agent.deliveries, 3);
  // the sidecar closed both trickles mid-body (they never end on their own)
  t.deepEqual(
    agent.trickles.map((e) => e.index),
    [0, 1],
  );
  t.true(agent.trickles.every((e) => e.bytes > 0));
  const failed = h.sink.withCode('CORE_ERR_DELIVERY_FAILED');
  t.is(failed.length, n - 1);
  t.like(failed[0], { reason: 'timed out after 1000 ms' });
  t.like(failed[1], { reason: 'timed out after 1000 ms' });
  t.is(await h.metrics.value('relay_delivery_retries_total'), n - 1);
});

test('sessions whose agent trickles forever do not hold every slot: other sessions are delivered', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.setScript((d) => (d.envelope?.event?.text === 'stuck' ? { trickleMs: 20 } : {}));
  const h = await startInbox(t, host(), {
    config: pushTo(agent.url, { timeoutMs: 200, concurrency: 2 }),
  });
  h.inbox.routes.inbound(inbound({ text: 'stuck', chat: 'S1' }));
  h.inbox.routes.inbound(inbound({ text: 'stuck', chat: 'S2' }));
  await agent.waitUntil((all) => all.filter((d) => d.envelope?.event?.text === 'stuck').length >= 2);
  h.inbox.routes.inbound(inbound({ text: 'free', chat: 'S3' }));
  await until(() => rows(h).some((r) => r.envelope.event?.text === 'free' && r.state === 'delivered'));
  t.true(agent.trickles.length >= 2);
  t.true(rows(h).every((r) => r.envelope.event?.text === 'free' || r.state === 'pending'));
});

test('a response nested past 64 levels delivers without running its actions, with a stable code', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  const levels = 10_000;
  const deep = `{"actions":[{"op":"send","chat_id":"D1","content":"deep","metadata":{"x":${'['.repeat(levels)}${']'.repeat(levels)}}}]}`;
  agent.reply({ body: deep }, { actions: [{ op: 'send', chat_id: 'D1', content: 'flat' }] });
  const h = await startInbox(t, host(), { config: pushTo(agent.url) });
  h.inbox.routes.inbound(inbound({ text: 'one', chat: 'D1' }));
  h.inbox.routes.inbound(inbound({ text: 'two', chat: 'D1' }));
  await until(() => h.actions.length === 1);
  t.deepEqual(h.actions, [{ op: 'send', chat_id: 'D1', content: 'flat' }]);
  const problems = h.sink.withCode('CORE_ERR_DELIVERY_RESPONSE_INVALID');
  t.is(problems.length, 1);
  t.like(problems[0], { reason: 'body nested more than 64 levels deep' });
  t.is(await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_DELIVERY_RESPONSE_INVALID' }), 1);
  t.true(rows(h).every((r) => r.state === 'delivered'));
  t.is(agent.deliveries.length, 2);
});
