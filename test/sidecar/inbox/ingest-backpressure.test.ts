/**
 * The ingest pipeline on real parts (plugin pool, SQLite file) under load: backpressure asked for when
 * full and released once drained, frames past twice maxIngestPending still taken (reported once), and
 * quiesce and close with frames in flight.
 */
import test from 'ava';
import { inbound, rows, sharedHost, startInbox, until, wrapInbound } from './inbox-harness.js';
import { gated } from './ingest-harness.js';

const host = sharedHost();

test('a full pipeline asks for backpressure and releases it once drained', async (t) => {
  const { gate, release } = gated();
  const h = await startInbox(t, host(), {
    start: false,
    config: { inbox: { maxIngestPending: 4 } },
    wrap: wrapInbound(async (input, real) => {
      await gate;
      return real.runInbound(input);
    }),
  });
  const seen: boolean[] = [];
  h.inbox.onBackpressure((paused) => seen.push(paused));
  for (let i = 0; i < 6; i++) h.inbox.routes.inbound(inbound({ text: `m${i}`, bufferId: `bp${i}` }));
  t.deepEqual(seen, [true]);
  release();
  await until(() => h.acks.length === 6);
  t.deepEqual(seen, [true, false]);
  t.is(rows(h).length, 6);
});

test('past twice maxIngestPending frames are still taken (a live one is never redelivered), reported once', async (t) => {
  const { gate, release } = gated();
  const h = await startInbox(t, host(), {
    start: false,
    config: { inbox: { maxIngestPending: 2 } },
    wrap: wrapInbound(async (input, real) => {
      await gate;
      return real.runInbound(input);
    }),
  });
  // one socket read can bring many frames after reading was paused: none may be dropped
  for (let i = 0; i < 6; i++) h.inbox.routes.inbound(inbound({ text: `m${i}`, bufferId: `ov${i}` }));
  for (let i = 0; i < 3; i++) h.inbox.routes.inbound(inbound({ text: `live${i}`, messageId: `live-${i}` }));
  t.is(h.sink.withCode('CORE_ERR_INBOX_OVERLOADED').length, 1);
  release();
  await until(() => rows(h).length === 9);
  t.deepEqual(
    h.acks.map((a) => a.bufferId),
    ['ov0', 'ov1', 'ov2', 'ov3', 'ov4', 'ov5'],
  );
});

test('quiesce waits for the frames taken so far and keeps taking new ones; close commits those', async (t) => {
  const { gate, release } = gated();
  const h = await startInbox(t, host(), {
    start: false,
    wrap: wrapInbound(async (input, real) => {
      if (input.event.text === 'slow') await gate;
      return real.runInbound(input);
    }),
  });
  h.inbox.routes.inbound(inbound({ text: 'first', bufferId: 'st-1' }));
  const settled = h.inbox.quiesce(5_000);
  h.inbox.routes.inbound(inbound({ text: 'slow', bufferId: 'st-2' }));
  await settled;
  t.deepEqual(
    h.acks.map((a) => a.bufferId),
    ['st-1'],
    'quiesce did not wait for the frame taken after it started',
  );
  const closed = h.inbox.close(5_000);
  release();
  await closed;
  // committed (a buffered frame is acked only after its commit) before the store closed
  t.deepEqual(
    h.acks.map((a) => a.bufferId),
    ['st-1', 'st-2'],
  );
  // once closed, a frame is refused with a stable code
  h.inbox.routes.inbound(inbound({ text: 'too late', bufferId: 'st-3' }));
  t.is(h.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').length, 1);
});
