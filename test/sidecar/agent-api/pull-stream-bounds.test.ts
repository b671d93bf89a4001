/**
 * Pull mode with large deliveries on a real HTTP stream: a reconnect that re-sends many large
 * unacked deliveries at once, a replaced stream whose agent stopped reading, and the metrics
 * that show an operator the stream and its unacked deliveries.
 */
import net from 'node:net';
import test from 'ava';
import { systemClock } from '../../../core/di/clock.js';
import { createLogger } from '../../../core/log/logger.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import type { DeliveryJob } from '../../../sidecar/delivery/delivery-target.js';
import { PullDelivery } from '../../../sidecar/delivery/pull-delivery.js';
import { type Harness, logSink, startApi } from './api-harness.js';

const MIB = 1024 * 1024;

/** A delivery whose envelope carries `pad` (one shared string: no copy per job or attempt). */
function bigJob(id: string, pad: string): DeliveryJob {
  let attempt = 0;
  return {
    id,
    type: 'message',
    sessionKey: `agent:main:discord:dm:${id}`,
    begin: () => `{"id":"${id}","attempt":${++attempt},"pad":"${pad}"}`,
  };
}

async function start(t: Parameters<typeof startApi>[0]) {
  const sink = logSink();
  const pull = new PullDelivery({
    clock: systemClock,
    log: createLogger({ level: 'info', destination: sink.stream }),
    keepAliveMs: 60_000,
  });
  t.teardown(() => pull.close());
  const h = await startApi(t, { deps: { pull } });
  return { h, pull, logText: sink.text };
}

/** Open `GET /v1/events` on a raw socket; nothing is read from it until `resume()`. */
function rawStream(h: Harness): Promise<net.Socket> {
  const { port } = new URL(h.base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(`GET /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${h.token}\r\n\r\n`);
      resolve(socket);
    });
    socket.pause();
    socket.on('error', reject);
  });
}

/**
 * Count the SSE events (`id:` at a line start) read from `res` until `want` have come; then the
 * stream is closed unless `keepOpen`.
 */
async function countEvents(res: Response, want: number, keepOpen = false): Promise<number> {
  const needle = '\nid: dlv_'; // the stream opens with `retry:`, so every event follows a line break
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let count = 0;
  let carry = ''; // shorter than the needle: a match is never counted twice
  while (count < want) {
    const { value, done } = await reader.read();
    if (done) break;
    const text = carry + decoder.decode(value, { stream: true });
    count += text.split(needle).length - 1;
    carry = text.slice(-(needle.length - 1));
  }
  if (!keepOpen) await reader.cancel();
  return count;
}

test('a stream attaching with many large deliveries unacked gets every one of them', async (t) => {
  const { h, pull, logText } = await start(t);
  // 40 × 16 MiB: more than one string can hold, so they cannot go out as one write
  const pad = 'x'.repeat(16 * MIB);
  const ids = Array.from({ length: 40 }, (_, i) => `dlv_${String(i).padStart(3, '0')}`);
  for (const id of ids) void pull.deliver(bigJob(id, pad));
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const res = await h.call('/v1/events', { signal: controller.signal });
  // a write that fails drops the events: fail then rather than wait for them for good
  const failed = new Promise<string>((resolve) => {
    const timer = setInterval(() => {
      if (!logText().includes('agent stream write failed')) return;
      clearInterval(timer);
      resolve('agent stream write failed');
    }, 50);
    t.teardown(() => clearInterval(timer));
  });
  t.is(await Promise.race([countEvents(res, ids.length), failed]), ids.length);
});

test('a replaced stream whose agent stopped reading is closed, not held with its unsent bytes', async (t) => {
  const { h, pull } = await start(t);
  const stalled = await rawStream(h);
  t.teardown(() => stalled.destroy());
  await new Promise((resolve) => setTimeout(resolve, 100)); // the request reaches the server
  t.true(pull.attached);
  // far more than the loopback socket buffers take: most stays in the server's memory
  const pad = 'y'.repeat(4 * MIB);
  for (let i = 0; i < 16; i++) void pull.deliver(bigJob(`dlv_s${i}`, pad));
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const next = await h.call('/v1/events', { signal: controller.signal });
  t.is(await countEvents(next, 16), 16);
  // the stalled agent reads now: it finds the stream closed short of the 64 MiB once queued
  let received = 0;
  stalled.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  await new Promise<void>((resolve) => {
    stalled.once('close', () => resolve());
    stalled.resume();
  });
  t.true(received < 16 * 4 * MIB, `received ${received} bytes`);
});

test('metrics show whether an agent stream is attached, what is unacked, and streams replaced', async (t) => {
  const metrics = new Metrics();
  const pull = new PullDelivery({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    metrics,
    keepAliveMs: 60_000,
  });
  t.teardown(() => pull.close());
  const h = await startApi(t, { deps: { pull, metrics } });
  const value = (name: string) => metrics.value(name);
  void pull.deliver(bigJob('dlv_m1', 'a'));
  void pull.deliver(bigJob('dlv_m2', 'b'));
  // no agent reading: two waiting, nothing attached
  t.is(await value('relay_pull_stream_attached'), 0);
  t.is(await value('relay_pull_unacked'), 2);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const first = await h.call('/v1/events', { signal: controller.signal });
  t.is(await countEvents(first, 2, true), 2);
  t.is(await value('relay_pull_stream_attached'), 1);
  t.is((await h.call('/v1/events/dlv_m1/ack', { method: 'POST' })).status, 204);
  t.is(await value('relay_pull_unacked'), 1);
  const second = await h.call('/v1/events', { signal: controller.signal });
  t.is(await countEvents(second, 1), 1);
  t.is(await value('relay_pull_streams_replaced_total'), 1);
  t.is(await value('relay_pull_stream_attached'), 1);
  const text = await (await h.call('/metrics')).text();
  t.regex(text, /^relay_pull_unacked 1$/m);
});
