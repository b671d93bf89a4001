/**
 * The relay client's outbound sends against a real ws connector on loopback: requestIds and results
 * matched out of order, timeouts and a lost socket reported as ambiguous, fast failures while reconnecting
 * or stopped, invalid or excess frames refused before writing, egress refusals passed through, and
 * interrupts.
 */
import 'reflect-metadata';
import test from 'ava';
import { REQUEST_ID } from '../../../core/protocol/frames.js';
import { send, sleep, startHarness, waitUntil } from './relay-harness.js';

test('send: a 32-hex requestId, tags, the connector result, no leaked waiter', async (t) => {
  const h = await startHarness(t, {
    config: { relay: { identities: [{ platform: 'discord', botId: 'bot-1' }] } },
    dc: { respond: (f) => ({ success: true, message_id: `m-${f.requestId.slice(0, 4)}`, extra: 'kept' }) },
  });
  await h.waitState('ready');
  const r = await h.client.send(send(), { platform: 'discord' });
  const frame = h.received('outbound')[0]?.frame ?? {};
  t.regex(String(frame.requestId), REQUEST_ID);
  t.deepEqual(r, { success: true, message_id: `m-${String(frame.requestId).slice(0, 4)}`, extra: 'kept' });
  t.is(frame.platform, 'discord');
  t.is(frame.botId, 'bot-1');
  t.deepEqual(frame.action, send());
  t.is(h.client.pendingCount(), 0);
  t.is(await h.metrics.value('relay_frames_out_total', { type: 'outbound' }), 1);
  t.is(await h.metrics.value('relay_outbound_results_total', { outcome: 'success' }), 1);
  t.regex(await h.metrics.registry.metrics(), /relay_outbound_latency_seconds_count\{op="send"\} 1\n/);
});

test('many concurrent sends resolve by id, out of order, with no leaked waiter', async (t) => {
  const h = await startHarness(t, {
    dc: {
      respond: async (f) => {
        await sleep(Math.floor(Math.random() * 20));
        return { success: true, message_id: String(f.action.chat_id) };
      },
    },
  });
  await h.waitState('ready');
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => h.client.send(send(`chat-${i}`))));
  t.deepEqual(
    results.map((r) => r.message_id),
    results.map((_, i) => `chat-${i}`),
  );
  t.is(h.client.pendingCount(), 0);
  t.is(await h.metrics.value('relay_outbound_pending'), 0);
});

test('no result in time ⇒ timed out and ambiguous; the late result is ignored', async (t) => {
  const h = await startHarness(t, {
    // the result comes long after the deadline: a deadline rules a turn after its timer, on what
    // arrived by then, and on a loaded machine its timer ran 170 ms late (80 ms against 250)
    config: { relay: { outboundTimeoutMs: 200 } },
    dc: {
      respond: async () => {
        await sleep(3_000);
        return { success: true };
      },
    },
  });
  await h.waitState('ready');
  const r = await h.client.send(send());
  t.deepEqual(r, { success: false, error: 'relay outbound timed out', ambiguous: true });
  t.is(h.client.pendingCount(), 0);
  t.is(h.sink.withCode('CORE_ERR_OUTBOUND_TIMEOUT').length, 1);
  await waitUntil(() => h.dc.frames.some((f) => f.dir === 'out' && f.frame.type === 'outbound_result'));
  await h.sink.waitFor((l) => l.msg === 'outbound_result arrived after its call timed out');
  t.is(await h.metrics.value('relay_frames_ignored_total', { reason: 'late_result' }), 1);
});

test('an unknown requestId from the connector is ignored and counted', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  h.dc.send({ type: 'outbound_result', requestId: 'f'.repeat(32), result: { success: true } });
  await waitUntil(() => h.sink.withMsg('outbound_result for unknown requestId ignored').length === 1);
  t.is(await h.metrics.value('relay_frames_ignored_total', { reason: 'unknown_request' }), 1);
  t.is(h.client.state, 'ready');
});

test('the socket lost after the write ⇒ connection lost, ambiguous, for every pending send', async (t) => {
  const h = await startHarness(t, { dc: { respond: () => undefined } });
  await h.waitState('ready');
  const pending = [h.client.send(send('a')), h.client.send(send('b'))];
  await waitUntil(() => h.received('outbound').length === 2);
  t.is(h.client.pendingCount(), 2);
  h.dc.terminate();
  for (const r of await Promise.all(pending)) {
    t.deepEqual(r, { success: false, error: 'relay transport connection lost', ambiguous: true });
  }
  t.is(h.client.pendingCount(), 0);
  t.is(await h.metrics.value('relay_outbound_results_total', { outcome: 'connection_lost' }), 2);
});

test('while reconnecting, sends fail fast as not connected and nothing is queued', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  h.dc.setDescriptorFor(() => null); // the next connection never completes its handshake
  h.dc.drop();
  await h.waitState('reconnecting');
  const r = await h.client.send(send());
  t.deepEqual(r, { success: false, error: 'relay transport not connected' });
  t.false(h.client.interrupt('agent:main:x', 'stop'));
  h.dc.setDescriptorFor(undefined);
  h.dc.drop();
  await h.waitState('ready');
  await sleep(30);
  t.is(h.received('outbound').length, 0);
  t.is(h.received('interrupt').length, 0);
});

test('stop ⇒ pending sends resolve closed (ambiguous: written), later sends closed (not sent), no more dials', async (t) => {
  const h = await startHarness(t, { dc: { respond: () => undefined } });
  await h.waitState('ready');
  const pending = h.client.send(send());
  await waitUntil(() => h.received('outbound').length === 1);
  await h.client.stop();
  // the connector has the frame and may have acted on it: a retry could post the message twice
  t.deepEqual(await pending, { success: false, error: 'relay transport closed', ambiguous: true });
  t.deepEqual(await h.client.send(send()), { success: false, error: 'relay transport closed' });
  t.is(h.client.state, 'stopped');
  t.is(h.client.pendingCount(), 0);
  await sleep(60);
  t.is(h.dc.totalConnections(), 1);
  t.is(h.dc.connectionCount(), 0);
  await h.client.stop(); // idempotent
});

test('an invalid outbound frame is refused before writing', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  const r = await h.client.send({ op: '' });
  t.is(r.success, false);
  t.regex(String(r.error), /^relay send failed: invalid outbound frame/);
  t.is(h.sink.withCode('CORE_ERR_OUTBOUND_INVALID_ACTION').length, 1);
  await sleep(20);
  t.is(h.received('outbound').length, 0);
});

test('more than maxPendingOutbound in flight ⇒ send failed, nothing written', async (t) => {
  const h = await startHarness(t, {
    config: { relay: { maxPendingOutbound: 2 } },
    dc: { respond: () => undefined },
  });
  await h.waitState('ready');
  const a = h.client.send(send('a'));
  const b = h.client.send(send('b'));
  const c = await h.client.send(send('c'));
  t.is(c.success, false);
  t.regex(String(c.error), /^relay send failed: /);
  await waitUntil(() => h.received('outbound').length === 2);
  await h.client.stop();
  t.is((await a).error, 'relay transport closed');
  t.is((await b).error, 'relay transport closed');
});

test('egress refusals pass through as results', async (t) => {
  const h = await startHarness(t, {
    dc: { respond: () => ({ success: false, code: 'egress_declined', error: 'no' }) },
  });
  await h.waitState('ready');
  const r = await h.client.send(send());
  t.is(r.code, 'egress_declined');
  t.is(await h.metrics.value('relay_outbound_results_total', { outcome: 'egress_declined' }), 1);
});

test('interrupt sends session_key and reason (null kept)', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  t.true(h.client.interrupt('agent:main:discord:dm:d1', null));
  t.true(h.client.interrupt('agent:main:discord:dm:d2', 'user said stop'));
  t.false(h.client.interrupt('', null));
  await waitUntil(() => h.received('interrupt').length === 2);
  t.deepEqual(
    h.received('interrupt').map((f) => f.frame),
    [
      { type: 'interrupt', session_key: 'agent:main:discord:dm:d1', reason: null },
      { type: 'interrupt', session_key: 'agent:main:discord:dm:d2', reason: 'user said stop' },
    ],
  );
});
