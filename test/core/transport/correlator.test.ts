import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { decodeFrame } from '../../../core/protocol/decode.js';
import { REQUEST_ID } from '../../../core/protocol/frames.js';
import { Correlator, newRequestId, normaliseResult, outcomeOf } from '../../../core/transport/correlator.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { FakeClock } from './fake-clock.js';

function setup(maxPending = 100) {
  const clock = new FakeClock();
  const metrics = new Metrics();
  const sink = createLogSink();
  const c = new Correlator(clock, metrics, sink.logger, { timeoutMs: 30_000, maxPending });
  return { clock, metrics, sink, c };
}

test('request ids are 32 lowercase hex and unique', (t) => {
  const ids = new Set(Array.from({ length: 1_000 }, newRequestId));
  t.is(ids.size, 1_000);
  for (const id of ids) t.regex(id, REQUEST_ID);
});

test('a result resolves its waiter by id and leaves nothing behind', async (t) => {
  const { c, clock, metrics } = setup();
  const a = c.track('a'.repeat(32), 'send');
  const b = c.track('b'.repeat(32), 'edit');
  t.is(c.pendingCount(), 2);
  t.true(c.settle('b'.repeat(32), { success: true }));
  t.true(c.settle('a'.repeat(32), { success: true, message_id: 'm1' }));
  t.deepEqual(await a, { success: true, message_id: 'm1' });
  t.deepEqual(await b, { success: true });
  t.is(c.pendingCount(), 0);
  t.is(clock.pending(), 0);
  t.is(await metrics.value('relay_outbound_results_total', { outcome: 'success' }), 2);
  t.is(await metrics.value('relay_outbound_pending'), 0);
});

test('unknown ids are ignored and counted', async (t) => {
  const { c, metrics } = setup();
  t.false(c.settle('f'.repeat(32), { success: true }));
  t.is(await metrics.value('relay_frames_ignored_total', { reason: 'unknown_request' }), 1);
});

test('no result within the timeout ⇒ timed out, ambiguous; a late result is ignored', async (t) => {
  const { c, clock, metrics, sink } = setup();
  const p = c.track('c'.repeat(32), 'send');
  clock.advance(29_999);
  t.is(c.pendingCount(), 1);
  clock.advance(1);
  t.deepEqual(await p, { success: false, error: 'relay outbound timed out', ambiguous: true });
  t.is(c.pendingCount(), 0);
  t.is(sink.withCode('CORE_ERR_OUTBOUND_TIMEOUT').length, 1);
  t.false(c.settle('c'.repeat(32), { success: true, message_id: 'm-late' }));
  t.is(await metrics.value('relay_outbound_results_total', { outcome: 'timed_out' }), 1);
  // the agent was told "may have been applied": the operator learns what became of it
  const late = sink.withMsg('outbound_result arrived after its call timed out');
  t.like(late, [{ requestId: 'c'.repeat(32), op: 'send', outcome: 'success', messageId: 'm-late' }]);
  t.is(await metrics.value('relay_frames_ignored_total', { reason: 'late_result' }), 1);
  t.is(await metrics.value('relay_frames_ignored_total', { reason: 'unknown_request' }), 0);
  // a second copy of the same late result is an unknown id like any other
  t.false(c.settle('c'.repeat(32), { success: true }));
  t.is(await metrics.value('relay_frames_ignored_total', { reason: 'unknown_request' }), 1);
});

test('connection lost resolves every waiter as lost and ambiguous', async (t) => {
  const { c, clock } = setup();
  const ps = ['1', '2', '3'].map((d) => c.track(d.repeat(32), 'send'));
  t.is(c.connectionLost(), 3);
  for (const r of await Promise.all(ps)) {
    t.deepEqual(r, { success: false, error: 'relay transport connection lost', ambiguous: true });
  }
  t.is(c.pendingCount(), 0);
  t.is(clock.pending(), 0);
});

test('closeAll resolves every waiter as closed and ambiguous (its frame was already written)', async (t) => {
  const { c } = setup();
  const p = c.track('d'.repeat(32), 'send');
  t.is(c.closeAll(), 1);
  t.deepEqual(await p, { success: false, error: 'relay transport closed', ambiguous: true });
  t.is(c.pendingCount(), 0);
});

test('fail resolves one waiter with a synthesised result', async (t) => {
  const { c, metrics } = setup();
  const p = c.track('e'.repeat(32), 'send');
  c.fail('e'.repeat(32), { success: false, error: 'relay send failed: x' }, 'send_failed');
  t.deepEqual(await p, { success: false, error: 'relay send failed: x' });
  t.is(await metrics.value('relay_outbound_results_total', { outcome: 'send_failed' }), 1);
});

test('a malformed result resolves as malformed and ambiguous', async (t) => {
  const { c, sink } = setup();
  const p = c.track('9'.repeat(32), 'send');
  c.settle('9'.repeat(32), { success: 'yes' });
  t.deepEqual(await p, { success: false, error: 'relay outbound result malformed', ambiguous: true });
  t.is(sink.withCode('CORE_ERR_FRAME_SCHEMA').length, 1);
});

test('a result that is not an object settles its waiter at once as malformed, not at the timeout', async (t) => {
  for (const result of ['"ok"', '[]', '7', 'true', '[{"success":true}]']) {
    const { c, sink } = setup();
    const id = 'f'.repeat(32);
    const waiting = c.track(id, 'send');
    // the frame as the read path decodes it: its requestId names a waiter, so it is answered
    const decoded = decodeFrame(`{"type":"outbound_result","requestId":"${id}","result":${result}}`);
    t.true(decoded.ok, result);
    if (decoded.ok && decoded.frame.type === 'outbound_result')
      c.settle(decoded.frame.requestId, decoded.frame.result);
    t.is(c.pendingCount(), 0, result);
    if (c.pendingCount() > 0) continue; // the fake clock never fires: do not wait on it
    t.deepEqual(await waiting, { success: false, error: 'relay outbound result malformed', ambiguous: true });
    t.is(sink.withCode('CORE_ERR_FRAME_SCHEMA').length, 1, result);
  }
});

test('whenSettled resolves at once with no waiter, else once those pending at the call are resolved', async (t) => {
  const { c } = setup();
  await c.whenSettled();
  c.track('1'.repeat(32), 'send');
  c.track('2'.repeat(32), 'send');
  let settled = false;
  const waiting = c.whenSettled().then(() => {
    settled = true;
  });
  // a call made afterwards does not hold it (steady traffic must not stretch a shutdown)
  c.track('3'.repeat(32), 'send');
  c.settle('1'.repeat(32), { success: true });
  await Promise.resolve();
  t.false(settled);
  c.settle('2'.repeat(32), { success: true });
  await waiting;
  t.true(settled);
  t.is(c.pendingCount(), 1);
  c.closeAll();
});

test('full() honours maxPending', (t) => {
  const { c } = setup(2);
  c.track('1'.repeat(32), 'send');
  t.false(c.full());
  c.track('2'.repeat(32), 'send');
  t.true(c.full());
  c.closeAll();
});

test('results: numeric ids become strings, unknown keys survive, outcomes classified', (t) => {
  t.deepEqual(normaliseResult({ success: true, message_id: 42, extra: 1 }), {
    success: true,
    message_id: '42',
    extra: 1,
  });
  t.is(outcomeOf({ success: true }), 'success');
  t.is(outcomeOf({ success: false, code: 'egress_declined' }), 'egress_declined');
  t.is(outcomeOf({ success: false, error: 'egress declined: policy' }), 'egress_declined');
  t.is(outcomeOf({}), 'failure');
});

test('the outbound latency is never negative, nor an hour long, when the wall clock steps during a call', async (t) => {
  const { c, clock, metrics } = setup();
  const latencySum = async () => {
    const text = await metrics.registry.metrics();
    return Number(/relay_outbound_latency_seconds_sum\{op="send"\} (\S+)/.exec(text)?.[1]);
  };
  const back = c.track('a'.repeat(32), 'send');
  clock.step(-3_600_000);
  t.true(c.settle('a'.repeat(32), { success: true }));
  await back;
  const afterBack = await latencySum();
  t.true(afterBack >= 0 && afterBack < 30, `latency ${afterBack} s for an immediate answer (clock set back)`);
  const forward = c.track('b'.repeat(32), 'send');
  clock.step(3_600_000);
  t.true(c.settle('b'.repeat(32), { success: true }));
  await forward;
  const afterForward = (await latencySum()) - afterBack;
  t.true(
    afterForward >= 0 && afterForward < 30,
    `latency ${afterForward} s for an immediate answer (clock set forward)`,
  );
});
