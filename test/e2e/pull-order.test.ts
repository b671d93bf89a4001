/**
 * Pull mode under stream churn: two streams at once, a stream that goes away with deliveries
 * outstanding, acks out of order and from a replaced stream, and a restart with deliveries
 * pending. Every event reaches the agent under one id, and each session's events in order.
 */
import test from 'ava';
import {
  type Chat,
  discordMessage,
  secretOf,
  sessionOf,
  startConnector,
  startInProcess,
  until,
  WAIT,
} from './e2e-harness.js';
import { SseClient, type SseEvent } from './sse-client.js';

const A: Chat = { channel: 'c-po', user: 'u-a' };
const B: Chat = { channel: 'c-po', user: 'u-b' };

/** Event text → the delivery ids it arrived under, over every stream. */
function idsByText(streams: readonly SseClient[]): Map<string, Set<string>> {
  const ids = new Map<string, Set<string>>();
  for (const e of streams.flatMap((s) => s.events)) {
    const text = String(e.data?.event?.text);
    ids.set(text, (ids.get(text) ?? new Set()).add(String(e.id)));
  }
  return ids;
}

const textOf = (e: SseEvent | undefined) => String(e?.data?.event?.text);

test('pull: streams replaced and dropped, acks out of order and from an old stream, a restart: one id per event, order per session', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const connector = await startConnector(t, secret);
  const sc = await startInProcess(t, { connector, secret, token });
  const base = () => `http://127.0.0.1:${(sc.sidecar.api.address() as { port: number }).port}`;
  const streams: SseClient[] = [];
  const open = async (url: string) => {
    const s = await SseClient.open(`${url}/v1/events`, token);
    t.teardown(() => s.close());
    streams.push(s);
    return s;
  };
  const acked: string[] = [];
  const ack = async (api: typeof sc.api, e: SseEvent | undefined) => {
    const res = await api(`/v1/events/${e?.id}/ack`, { method: 'POST' });
    t.is(res.status, 204, `ack ${textOf(e)}`);
    acked.push(textOf(e));
  };

  const first = await open(base());
  for (let i = 1; i <= 3; i++) {
    connector.send(discordMessage(A, `A${i}`, `m-A${i}`));
    connector.send(discordMessage(B, `B${i}`, `m-B${i}`));
  }
  await first.waitUntil((ev) => ev.length === 2, WAIT);
  const second = await open(base()); // replaces the first
  await second.waitUntil((ev) => ev.length === 2, WAIT);
  t.deepEqual(second.events.map(textOf).sort(), ['A1', 'B1']);
  // acks out of order, one of them for the copy the replaced stream carried
  await ack(
    sc.api,
    second.events.find((e) => textOf(e) === 'B1'),
  );
  await ack(
    sc.api,
    first.events.find((e) => textOf(e) === 'A1'),
  );
  await second.waitUntil((ev) => ev.length === 4, WAIT);
  t.deepEqual(second.events.slice(2).map(textOf).sort(), ['A2', 'B2']);
  // the stream goes away with A2 and B2 outstanding
  second.close();
  await until(() => !sc.sidecar.inbox.pull?.attached, WAIT, 'stream detached');
  const third = await open(base());
  await third.waitUntil((ev) => ev.length === 2, WAIT);
  t.deepEqual(third.events.map(textOf).sort(), ['A2', 'B2']);
  t.deepEqual(
    third.events.map((e) => e.data?.attempt),
    [2, 2],
  );
  await ack(
    sc.api,
    third.events.find((e) => textOf(e) === 'A2'),
  );
  await third.waitUntil((ev) => ev.some((e) => textOf(e) === 'A3'), WAIT);
  // restart with B2 and A3 outstanding and B3 queued behind B2
  third.close();
  await sc.sidecar.stop();
  const again = await startInProcess(t, { connector, secret, token, dataDir: sc.dataDir, sink: sc.sink });
  const url = `http://127.0.0.1:${(again.sidecar.api.address() as { port: number }).port}`;
  const fourth = await open(url);
  await fourth.waitUntil((ev) => ev.length === 2, WAIT);
  t.deepEqual(fourth.events.map(textOf).sort(), ['A3', 'B2']);
  for (const e of [...fourth.events]) await ack(again.api, e);
  await fourth.waitUntil((ev) => ev.some((e) => textOf(e) === 'B3'), WAIT);
  await ack(
    again.api,
    fourth.events.find((e) => textOf(e) === 'B3'),
  );
  await until(() => again.sidecar.inbox.stats().pending === 0, WAIT, 'all acked');

  const ids = idsByText(streams);
  t.is(ids.size, 6);
  for (const [text, set] of ids) t.is(set.size, 1, `${text}: one id`);
  // one unacked delivery per session: each session's events were acked in their order
  const ackedOf = (prefix: string) => acked.filter((x) => x.startsWith(prefix));
  t.deepEqual(ackedOf('A'), ['A1', 'A2', 'A3']);
  t.deepEqual(ackedOf('B'), ['B1', 'B2', 'B3']);
  for (const s of streams) {
    for (const e of s.events) t.is(e.data?.session_key, sessionOf(textOf(e).startsWith('A') ? A : B));
  }
});
