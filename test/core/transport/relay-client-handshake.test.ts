import 'reflect-metadata';
import test from 'ava';
import { defaultDescriptor } from '../../../sidecar/dev-connector/index.js';
import { startHarness, waitUntil } from './relay-harness.js';

const manifest = [{ name: 'ask', description: 'Ask the agent' }];
const identities = [
  { platform: 'telegram', botId: 't1' },
  { platform: 'discord', botId: 'd1' },
];

test('one hello per identity, in order, on /relay; the manifest rides only on the discord hello', async (t) => {
  const h = await startHarness(t, { config: { relay: { identities, commandManifest: manifest } } });
  await h.waitState('ready');
  await waitUntil(() => h.received('hello').length === 2);
  t.deepEqual(
    h.received('hello').map((f) => f.frame),
    [
      { type: 'hello', platform: 'telegram', botId: 't1' },
      { type: 'hello', platform: 'discord', botId: 'd1', command_manifest: manifest },
    ],
  );
  t.is(h.dc.upgrades[0]?.path, '/relay');
});

test('the first valid descriptor completes the handshake; descriptors are kept per platform', async (t) => {
  const h = await startHarness(t, {
    config: { relay: { identities } },
    dc: {
      descriptorFor: (hello) =>
        defaultDescriptor(hello.platform, { supported_ops: hello.platform === 'telegram' ? ['send'] : [] }),
    },
  });
  await h.waitState('ready');
  t.deepEqual(h.states, ['ready']);
  await waitUntil(() => h.client.descriptors().size === 2);
  t.deepEqual([...h.client.descriptors().keys()], ['telegram', 'discord']);
  t.is(h.client.defaultPlatform(), 'telegram');
  // Exact membership for an advertised list, the legacy set for an empty one.
  t.true(h.client.opAllowed('send'));
  t.false(h.client.opAllowed('edit'));
  t.true(h.client.opAllowed('edit', 'discord'));
  t.true(h.client.opAllowed('follow_up', 'discord'));
  t.false(h.client.opAllowed('get_chat_info', 'discord'));
  // A platform without a descriptor of its own is gated by the session default (telegram).
  t.true(h.client.opAllowed('send', 'whatsapp'));
  t.false(h.client.opAllowed('edit', 'whatsapp'));
  t.is(h.sink.withMsg('relay handshake complete').length, 1);
});

test('a descriptor failing its schema is logged and the handshake stays pending until it times out', async (t) => {
  const h = await startHarness(t, {
    config: { relay: { handshakeTimeoutMs: 150 } },
    dc: { descriptorFor: () => ({ platform: 'relay', label: 'broken' }) },
  });
  await h.sink.waitFor((l) => l.code === 'CORE_ERR_FRAME_SCHEMA' && l.type === 'descriptor');
  // Under load an earlier dial may time out during the upgrade; the one that matters got a descriptor.
  await h.sink.waitFor((l) => l.code === 'CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT' && l.phase === 'descriptor');
  t.is(h.client.state, 'connecting');
  t.is(h.client.descriptors().size, 0);
  // The supervisor redials; a valid descriptor then completes the handshake.
  h.dc.setDescriptorFor(undefined);
  await h.waitState('ready');
  t.true(h.dc.totalConnections() >= 2);
});

test('no descriptor at all ⇒ handshake timeout, socket terminated, redial', async (t) => {
  const h = await startHarness(t, {
    config: { relay: { handshakeTimeoutMs: 60 } },
    dc: { descriptorFor: () => null },
  });
  await waitUntil(() => h.dc.totalConnections() >= 2);
  t.true(h.sink.withCode('CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT').length >= 1);
  t.is(h.client.state, 'connecting');
  t.is(h.dc.connectionCount() <= 1, true);
});

test('sends before the handshake fail fast as not connected and write nothing', async (t) => {
  const h = await startHarness(t, { dc: { descriptorFor: () => null } });
  await h.dc.waitForConnection();
  const r = await h.client.send({ op: 'send', chat_id: 'c', content: 'x', reply_to: null, metadata: {} });
  t.deepEqual(r, { success: false, error: 'relay transport not connected' });
  t.false(h.client.interrupt('k', null));
  t.false(h.client.ackInbound('b1'));
  t.false(await h.client.goingIdle());
  t.false(h.client.opAllowed('send')); // no descriptor yet
  t.is(h.received('outbound').length + h.received('interrupt').length + h.received('inbound_ack').length, 0);
  t.is(await h.metrics.value('relay_outbound_results_total', { outcome: 'not_connected' }), 1);
});

test('getChatInfo answers locally when the op is not advertised', async (t) => {
  const h = await startHarness(t, {
    dc: { descriptorFor: (hello) => defaultDescriptor(hello.platform, { supported_ops: ['send'] }) },
  });
  await h.waitState('ready');
  t.deepEqual(await h.client.getChatInfo('chan-9'), { name: 'chan-9', type: 'dm' });
  t.is(h.received('outbound').length, 0);
});

test('getChatInfo asks the connector without tags and reads nested or flat answers', async (t) => {
  let flat = false;
  const h = await startHarness(t, {
    dc: {
      respond: () =>
        flat
          ? { success: true, name: 'Flat', type: 'channel' }
          : { success: true, chat_info: { name: 'General' } },
    },
  });
  await h.waitState('ready');
  t.deepEqual(await h.client.getChatInfo('c1'), { name: 'General', type: 'dm' });
  flat = true;
  t.deepEqual(await h.client.getChatInfo('c1'), { name: 'Flat', type: 'channel' });
  const frame = h.received('outbound')[0]?.frame ?? {};
  t.deepEqual(frame.action, { op: 'get_chat_info', chat_id: 'c1' });
  t.false('platform' in frame);
  t.false('botId' in frame);
});

test('a connector sending descriptors for ever more platforms: the set per connection is bounded', async (t) => {
  // one descriptor per hello is the contract; each may be up to maxPayload, and all are kept
  // for the connection (and shown by /v1/status)
  const h = await startHarness(t, { config: { relay: { identities } } });
  await h.waitState('ready');
  await waitUntil(() => h.client.descriptors().size === 2);
  const flood = Array.from({ length: 500 }, (_, i) => ({
    type: 'descriptor',
    descriptor: defaultDescriptor(`p${i}`),
  }));
  h.dc.send(flood.map((f) => `${JSON.stringify(f)}\n`).join(''));
  // an update of a platform already known is still taken
  h.dc.send({ type: 'descriptor', descriptor: defaultDescriptor('discord', { supported_ops: ['send'] }) });
  await waitUntil(() => h.client.descriptors().get('discord')?.supported_ops.length === 1);
  const size = h.client.descriptors().size;
  t.true(size <= 2 + 16, `${size} descriptors kept`);
  t.deepEqual([...h.client.descriptors().keys()].slice(0, 2), ['telegram', 'discord']);
  t.is(await h.metrics.value('relay_frames_ignored_total', { reason: 'descriptor_limit' }), 500 - (size - 2));
  t.is(h.client.state, 'ready');
});
