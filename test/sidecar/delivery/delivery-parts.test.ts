/**
 * The pure parts of delivery, alone: reading push responses (verdicts, actions, Retry-After),
 * request signing, SSE framing, delivery slots and the FIFO.
 */
import { createHmac } from 'node:crypto';
import test from 'ava';
import { Fifo } from '../../../sidecar/delivery/fifo.js';
import { actionsOf, retryAfterMs, verdictOf } from '../../../sidecar/delivery/push-response.js';
import { signDelivery, signingKey, verifyDelivery } from '../../../sidecar/delivery/signature.js';
import { SlotPool } from '../../../sidecar/delivery/slot-pool.js';
import { sseComment, sseEvent, sseRetry } from '../../../sidecar/delivery/sse.js';

test('status verdicts: 4xx other than 408/429 reject; 408, 429, 3xx and 5xx retry', (t) => {
  for (const status of [400, 401, 403, 404, 409, 413, 422, 499])
    t.like(verdictOf(status, undefined), { kind: 'rejected', status });
  for (const status of [408, 429, 300, 302, 500, 502, 503, 504])
    t.like(verdictOf(status, undefined), { kind: 'retry', status });
  t.like(verdictOf(503, 1500), { kind: 'retry', retryAfterMs: 1500 });
});

test('Retry-After in seconds or as an HTTP date', (t) => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  t.is(retryAfterMs('2', now), 2000);
  t.is(retryAfterMs('Thu, 26 Nov 2026 12:00:05 GMT', now), 5000);
  t.is(retryAfterMs('Thu, 26 Nov 2026 11:00:00 GMT', now), 0);
  t.is(retryAfterMs('soon', now), undefined);
  t.is(retryAfterMs('-1', now), undefined);
  t.is(retryAfterMs(undefined, now), undefined);
});

test('actions from a 2xx body', (t) => {
  t.deepEqual(actionsOf('', undefined), []);
  t.deepEqual(actionsOf('ok', 'text/plain'), []);
  t.deepEqual(actionsOf('{"actions":[{"op":"send"},{"op":"typing"}]}', 'application/json'), [
    { op: 'send' },
    { op: 'typing' },
  ]);
  t.deepEqual(actionsOf('{"received":true}', 'application/json'), []);
  t.deepEqual(actionsOf('[1,2]', 'application/json'), []);
  t.deepEqual(actionsOf('{"actions":null}', 'application/json'), []);
  t.like(actionsOf('{"actions":{"op":"send"}}', 'application/json'), { reason: '`actions` is not a list' });
  t.like(actionsOf('{"actions": [', 'application/json'), { reason: 'body is not valid JSON' });
  t.like(actionsOf('{oops', undefined), { reason: 'body is not valid JSON' });
});

test('the signature is hex HMAC-SHA256 of "<timestamp>.<raw body>" keyed by the api token', (t) => {
  const token = 'the-api-token-0123456789';
  const body = '{"id":"dlv_1","text":"héllo"}';
  const want = createHmac('sha256', token).update(`1764158400.${body}`).digest('hex');
  t.is(signDelivery(token, '1764158400', body), want);
  t.is(signDelivery(signingKey(token), '1764158400', body), want);
  t.true(verifyDelivery(token, '1764158400', body, want));
  t.false(verifyDelivery(token, '1764158401', body, want));
  t.false(verifyDelivery('another-token-0123456789', '1764158400', body, want));
  t.false(verifyDelivery(token, '1764158400', body, 'zz'));
});

test('SSE framing', (t) => {
  t.is(sseEvent('dlv_1', 'message', '{"a":1}'), 'id: dlv_1\nevent: message\ndata: {"a":1}\n\n');
  t.is(sseComment('keep-alive'), ': keep-alive\n\n');
  t.is(sseRetry(1000.7), 'retry: 1000\n\n');
});

test('slots: bounded, priority waiters first, close wakes everyone with false', async (t) => {
  const pool = new SlotPool(1);
  t.true(await pool.acquire(false));
  const order: string[] = [];
  const normal = pool.acquire(false).then((ok) => order.push(`normal:${ok}`));
  const priority = pool.acquire(true).then((ok) => order.push(`priority:${ok}`));
  pool.release();
  await priority;
  t.deepEqual(order, ['priority:true']);
  t.is(pool.inUse, 1);
  pool.close();
  await normal;
  t.deepEqual(order, ['priority:true', 'normal:false']);
  t.false(await pool.acquire(true));
});

test('the FIFO keeps order across compactions', (t) => {
  const q = new Fifo<number>();
  for (let i = 0; i < 5000; i++) q.push(i);
  const out: number[] = [];
  for (let i = 0; i < 3000; i++) out.push(q.shift()!);
  for (let i = 5000; i < 6000; i++) q.push(i);
  t.is(q.length, 3000);
  t.is(q.peek(), 3000);
  for (let v = q.shift(); v !== undefined; v = q.shift()) out.push(v);
  t.deepEqual(
    out,
    Array.from({ length: 6000 }, (_, i) => i),
  );
  t.is(q.length, 0);
});
