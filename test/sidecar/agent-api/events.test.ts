import test from 'ava';
import { startApi } from './api-harness.js';

const EVENT = 'id: dlv_1\nevent: message\ndata: {"id":"dlv_1"}\n\n';

/** Read from an SSE body until `needle` has arrived. */
async function readUntil(body: ReadableStream<Uint8Array>, needle: string): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(needle)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

test('GET /v1/events opens an SSE stream that the delivery writes to', async (t) => {
  const h = await startApi(t);
  h.pull.onAttach = (stream) => stream.write(EVENT);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const res = await h.call('/v1/events', { signal: controller.signal });
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  t.regex(res.headers.get('cache-control') ?? '', /no-cache/);
  t.is(res.headers.get('x-accel-buffering'), 'no');
  t.is(res.headers.get('content-length'), null);
  t.is(await readUntil(res.body!, '\n\n'), EVENT);
  t.is(h.pull.attached.length, 1);
  t.is(h.pull.attached[0]?.lastEventId, undefined);
});

test('Last-Event-ID is handed to the delivery', async (t) => {
  const h = await startApi(t);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const attached = new Promise<void>((resolve) => {
    h.pull.onAttach = () => resolve();
  });
  const res = await h.call('/v1/events', {
    signal: controller.signal,
    headers: { 'last-event-id': 'dlv_41' },
  });
  t.is(res.status, 200);
  await attached;
  t.is(h.pull.attached[0]?.lastEventId, 'dlv_41');
});

test('a client going away fires the stream onClose once; later writes answer false', async (t) => {
  const h = await startApi(t);
  const controller = new AbortController();
  let closes = 0;
  const closed = new Promise<void>((resolve) => {
    h.pull.onAttach = (stream) =>
      stream.onClose(() => {
        closes++;
        resolve();
      });
  });
  const res = await h.call('/v1/events', { signal: controller.signal });
  t.is(res.status, 200);
  controller.abort();
  await closed;
  t.is(closes, 1);
  t.false(h.pull.attached[0]!.stream.write(EVENT));
});

test('close() ends open streams and completes', async (t) => {
  const h = await startApi(t);
  const closed = new Promise<void>((resolve) => {
    h.pull.onAttach = (stream) => stream.onClose(resolve);
  });
  const res = await h.call('/v1/events');
  t.is(res.status, 200);
  await h.api.close(200);
  await closed;
  const text = await res.text(); // the stream ended: the body completes
  t.is(text, '');
});

test('POST /v1/events/{id}/ack ⇒ 204 for an outstanding delivery, then 404 unknown_delivery', async (t) => {
  const h = await startApi(t);
  h.pull.outstanding.add('dlv_7');
  const first = await h.call('/v1/events/dlv_7/ack', { method: 'POST' });
  t.is(first.status, 204);
  t.is(await first.text(), '');
  const again = await h.call('/v1/events/dlv_7/ack', { method: 'POST' });
  t.is(again.status, 404);
  t.is(((await again.json()) as { error: { code: string } }).error.code, 'unknown_delivery');
});

for (const [method, path] of [
  ['GET', '/v1/events'],
  ['POST', '/v1/events/dlv_1/ack'],
] as const) {
  test(`${method} ${path} in push mode ⇒ 409 wrong_mode`, async (t) => {
    const h = await startApi(t, { config: { agent: { mode: 'push', url: 'http://127.0.0.1:9/agent' } } });
    const res = await h.call(path, { method });
    t.is(res.status, 409);
    t.is(((await res.json()) as { error: { code: string } }).error.code, 'wrong_mode');
    t.is(h.pull.attached.length, 0);
  });
}
