/**
 * `outbound_result` shapes (relay contract §3, §4): whatever `result` a connector answers with,
 * the waiting call is settled by that answer at once; only silence waits for the timeout.
 */
import 'reflect-metadata';
import test from 'ava';
import { startHarness, waitUntil } from './relay-harness.js';

const send = { op: 'send', chat_id: 'c1', content: 'hi', reply_to: null, metadata: {} };
const MALFORMED = { success: false, error: 'relay outbound result malformed', ambiguous: true };

for (const [name, result, expected] of [
  ['missing', undefined, {}],
  ['null', null, {}],
  ['a string', 'ok', MALFORMED],
  ['a boolean', true, MALFORMED],
  ['an array', [{ success: true }], MALFORMED],
  ['an object of wrong types', { success: 'yes' }, MALFORMED],
] as const) {
  test(`an outbound_result whose result is ${name} settles its call at once`, async (t) => {
    // a call the answer did not settle ends by the timeout, as `relay outbound timed out`
    const h = await startHarness(t, { dc: { respond: () => undefined } });
    await h.waitState('ready');
    const pending = h.client.send(send);
    await waitUntil(() => h.received('outbound').length === 1);
    const requestId = h.received('outbound')[0]?.frame.requestId;
    h.dc.send({ type: 'outbound_result', requestId, ...(result === undefined ? {} : { result }) });
    t.deepEqual(await pending, expected);
    t.is(h.client.pendingCount(), 0);
    t.is(h.sink.withCode('CORE_ERR_OUTBOUND_TIMEOUT').length, 0);
  });
}

test('an outbound_result nested deeper than MAX_JSON_DEPTH settles its call at once as unreadable and ambiguous', async (t) => {
  const h = await startHarness(t, { dc: { respond: () => undefined } });
  await h.waitState('ready');
  const pending = h.client.send(send);
  await waitUntil(() => h.received('outbound').length === 1);
  const requestId = h.received('outbound')[0]?.frame.requestId;
  let deep: unknown = 'bottom';
  for (let i = 0; i < 100; i++) deep = { next: deep };
  h.dc.send({ type: 'outbound_result', requestId, result: { success: true, message_id: 'm1', extra: deep } });
  t.deepEqual(await pending, {
    success: false,
    error: 'relay outbound result unreadable: nested more than 64 levels deep',
    ambiguous: true,
  });
  t.is(h.client.pendingCount(), 0);
  t.is(h.sink.withCode('CORE_ERR_OUTBOUND_TIMEOUT').length, 0);
  t.like(h.sink.withCode('CORE_ERR_FRAME_SCHEMA')[0], { type: 'outbound_result' });
  const counted = (await h.metrics.outboundResults.get()).values.filter(
    (v) => v.labels.outcome === 'malformed',
  );
  t.is(counted[0]?.value, 1);
});
