/**
 * `GET /v1/events` and `POST /v1/events/{id}/ack` on the real PullDelivery: SSE events on a real
 * HTTP stream, acks settle the delivery, a reconnect re-sends what is unacked.
 */
import test from 'ava';
import { systemClock } from '../../../core/di/clock.js';
import { createLogger } from '../../../core/log/logger.js';
import type { DeliveryJob, DeliveryResult } from '../../../sidecar/delivery/delivery-target.js';
import { PullDelivery } from '../../../sidecar/delivery/pull-delivery.js';
import { startApi } from './api-harness.js';

function job(id: string): DeliveryJob {
  let attempt = 0;
  return {
    id,
    type: 'message',
    sessionKey: 'agent:main:discord:dm:D1',
    begin: () => JSON.stringify({ id, type: 'message', attempt: ++attempt }),
  };
}

/** Read an SSE body until `needle` has arrived; returns everything read. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, needle: string): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(needle)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

async function start(t: Parameters<typeof startApi>[0]) {
  const pull = new PullDelivery({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    keepAliveMs: 60_000,
  });
  t.teardown(() => pull.close());
  const h = await startApi(t, { deps: { pull } });
  return { h, pull };
}

test('a delivery arrives as an SSE event; its ack answers 204 and settles it', async (t) => {
  const { h, pull } = await start(t);
  const settled: Promise<DeliveryResult> = pull.deliver(job('dlv_A'));
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const res = await h.call('/v1/events', { signal: controller.signal });
  t.is(res.status, 200);
  const text = await readUntil(res.body!.getReader(), '"attempt":1}\n\n');
  const rest = text.slice(text.indexOf('id: dlv_A'));
  t.regex(rest, /^id: dlv_A\nevent: message\ndata: \{"id":"dlv_A","type":"message","attempt":1\}/);
  const ack = await h.call('/v1/events/dlv_A/ack', { method: 'POST' });
  t.is(ack.status, 204);
  t.deepEqual(await settled, { kind: 'delivered', actions: [] });
  const again = await h.call('/v1/events/dlv_A/ack', { method: 'POST' });
  t.is(again.status, 404);
});

test('an unacked delivery is sent again on a new stream, which replaces the old one', async (t) => {
  const { h, pull } = await start(t);
  void pull.deliver(job('dlv_B'));
  const first = await h.call('/v1/events');
  const firstReader = first.body!.getReader();
  t.true((await readUntil(firstReader, '"attempt":1')).includes('id: dlv_B'));
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const second = await h.call('/v1/events', {
    signal: controller.signal,
    headers: { 'last-event-id': 'dlv_B' },
  });
  const text = await readUntil(second.body!.getReader(), '"attempt":2');
  t.true(text.includes('id: dlv_B'));
  // the first stream was ended by the delivery when the second attached
  const rest = await firstReader.read();
  t.true(rest.done);
});
