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
