/**
 * The host through the real pool with the well-behaved `echo` fixture: conversion, the inbound
 * and outbound chains, disabled platforms and ops, plugin logs, the shared store and metrics.
 */
import test from 'ava';
import { ECHO, echoThread, event, forward, inboundInput, startFixtureHost } from './fixture-host.js';

test('a forward is converted in a worker into validated events with capabilities', async (t) => {
  const { host } = await startFixtureHost(t, [ECHO]);
  const outcome = await host.convertForward(forward('echo', { text: 'hello', chat_id: 'c9' }, 'reviewer'));
  if (outcome.kind !== 'events') return t.fail(JSON.stringify(outcome));
  t.is(outcome.plugin, 'echo');
  const [first] = outcome.events;
  t.is(first?.event.text, 'hello');
  t.is(first?.event.message_type, 'text');
  t.like(first?.event.source, { platform: 'echo', chat_id: 'c9', profile: 'reviewer' });
  t.deepEqual(first?.capabilities, ['echo.reply']);
  // options parsed by the plugin's schema (default) and identities from the host
  t.is(first?.event.echo_tag, 'echo');
  t.deepEqual(first?.event.identities, ['echo/B1']);
  t.not(first?.event.worker_thread, 0, 'converted off the main thread');
});

test("the plugin's options reach its hooks", async (t) => {
  const { host } = await startFixtureHost(t, [{ ...ECHO, options: { tag: 'custom' } }]);
  const outcome = await host.convertForward(forward('echo', { text: 'x' }));
  t.is(outcome.kind === 'events' ? outcome.events[0]?.event.echo_tag : undefined, 'custom');
});

test('a converter verdict of no events is a final rejection with its reason', async (t) => {
  const { host, metrics } = await startFixtureHost(t, [ECHO]);
  t.deepEqual(await host.convertForward(forward('echo', 'not json')), {
    kind: 'rejected',
    plugin: 'echo',
    reason: 'malformed',
  });
  t.is(await metrics.value('relay_plugin_dropped_total', { plugin: 'echo', reason: 'malformed' }), 1);
});

test('a body that is not strict base64 is rejected without running the plugin', async (t) => {
  const { host } = await startFixtureHost(t, [ECHO]);
  const outcome = await host.convertForward({ ...forward('echo', { text: 'x' }), bodyB64: 'not base64!' });
  t.deepEqual(outcome, { kind: 'rejected', plugin: 'echo', reason: 'body_not_base64' });
  t.is(host.stats().completed, 0);
});

test('a platform without an enabled plugin is dropped, logged once with its code, and counted', async (t) => {
  const { host, sink, metrics } = await startFixtureHost(t, [{ ...ECHO, enabled: false }]);
  t.deepEqual(await host.convertForward(forward('echo', { text: 'x' })), {
    kind: 'disabled',
    platform: 'echo',
  });
  const lines = sink.withCode('CORE_ERR_PLUGIN_PLATFORM_DISABLED');
  t.is(lines.length, 1);
  t.is(lines[0]?.platform, 'echo');
  t.is(await metrics.value('relay_forwards_dropped_total', { platform: 'echo', reason: 'disabled' }), 1);
  t.like(host.plugins[0], { name: 'echo', enabled: false, passthrough: [] });
});

test('ops of a disabled plugin are unsupported; of an enabled one, validated by its schema', async (t) => {
  const off = await startFixtureHost(t, [{ ...ECHO, enabled: false }]);
  t.like(off.host.validateAction({ op: 'echo_ping', chat_id: 'c' }), {
    ok: false,
    status: 422,
    code: 'unsupported_op',
  });
  t.false(off.host.knownOps().includes('echo_ping'));
  const on = await startFixtureHost(t, [ECHO]);
  t.like(on.host.validateAction({ op: 'echo_ping', chat_id: 'c' }), { ok: true });
  t.true(on.host.knownOps().includes('echo_ping'));
  t.true(on.host.knownOps().includes('send'));
});

test('the inbound chain enriches the event and its capabilities', async (t) => {
  const { host } = await startFixtureHost(t, [ECHO]);
  const outcome = await host.runInbound({ ...inboundInput('hi'), capabilities: ['echo.reply'] });
  if (outcome.kind !== 'event') return t.fail(JSON.stringify(outcome));
  t.is(outcome.event.echo_seen, true);
  t.deepEqual(outcome.capabilities, ['echo.reply', 'echo.seen']);
});

test('an inbound drop names the plugin and is counted', async (t) => {
  const { host, metrics } = await startFixtureHost(t, [ECHO]);
  t.deepEqual(await host.runInbound(inboundInput('drop me')), {
    kind: 'dropped',
    plugin: 'echo',
    reason: 'asked_to_drop',
  });
  t.is(await metrics.value('relay_plugin_dropped_total', { plugin: 'echo', reason: 'asked_to_drop' }), 1);
});

test('without inbound plugins the event passes through without a pool round trip', async (t) => {
  const { host } = await startFixtureHost(t, [{ name: 'fault-exits', enabled: false }]);
  const input = inboundInput('hi');
  t.deepEqual(await host.runInbound(input), { kind: 'event', event: input.event, capabilities: [] });
  t.is(host.stats().completed + host.stats().failed, 0);
});

test('the outbound chain amends actions and tags, or rejects with the plugin name', async (t) => {
  const { host } = await startFixtureHost(t, [ECHO]);
  const action = { op: 'send', chat_id: 'c', content: 'hello', metadata: { keep: 1 } };
  t.deepEqual(await host.runOutbound(action, { botId: 'B1' }), {
    kind: 'ok',
    // an amended core action is checked against its schema again, which fills its defaults
    action: { ...action, reply_to: null, metadata: { keep: 1, echo: true } },
    platform: 'echo',
    botId: 'B1',
  });
  t.deepEqual(await host.runOutbound({ ...action, content: 'reject me' }, {}), {
    kind: 'rejected',
    plugin: 'echo',
    rejection: { code: 'echo_refused', message: 'echo refuses this content', status: 409 },
  });
  // an op outside the plugin's list skips the pool
  const typing = { op: 'typing', chat_id: 'c', metadata: {} };
  t.deepEqual(await host.runOutbound(typing, { platform: 'x' }), {
    kind: 'ok',
    action: typing,
    platform: 'x',
  });
});

test('hook log calls are logged on the main thread with the plugin name', async (t) => {
  const { host, sink } = await startFixtureHost(t, [ECHO]);
  await host.convertForward(forward('echo', { text: 'four' }));
  const line = await sink.waitFor((l) => l.msg === 'echo converted');
  t.like(line, { plugin: 'echo', hook: 'convert', chars: 4, component: 'plugin', level: 30 });
  t.false('notData' in line, 'a function in the fields was dropped, not fatal');
});

test('the store is shared by the workers and the main thread, namespaced by plugin, with TTL', async (t) => {
  const { host } = await startFixtureHost(t, [ECHO]);
  const main = host.store().namespace('echo');
  // worker writes, main reads
  await host.convertForward(forward('echo', { text: 'x', write: { key: 'from-worker', value: { n: 1 } } }));
  t.deepEqual(main.get('from-worker'), { n: 1 });
  await host.runInbound(inboundInput('hi'));
  t.is(main.get('last-session'), 'agent:main:echo:dm:c1');
  // main writes, worker reads
  main.set('from-main', ['a', 'b']);
  const read = await host.convertForward(forward('echo', { text: 'x', read: 'from-main' }));
  t.deepEqual(read.kind === 'events' ? read.events[0]?.event.stored : undefined, ['a', 'b']);
  // another namespace is invisible to the plugin
  host.store().namespace('other').set('secret-of-other', 1);
  const other = await host.convertForward(forward('echo', { text: 'x', read: 'secret-of-other' }));
  t.is(other.kind === 'events' ? other.events[0]?.event.stored : undefined, null);
  // an expired value is gone for the worker too
  main.set('short', 'v', 1);
  await new Promise((r) => setTimeout(r, 20));
  const expired = await host.convertForward(forward('echo', { text: 'x', read: 'short' }));
  t.is(expired.kind === 'events' ? expired.events[0]?.event.stored : undefined, null);
});

test('durations and counters are recorded', async (t) => {
  const { host, metrics } = await startFixtureHost(t, [ECHO]);
  await host.convertForward(forward('echo', { text: 'x' }));
  await host.runInbound(inboundInput('x'));
  const histogram = await metrics.registry.getSingleMetric('relay_plugin_task_duration_seconds')?.get();
  // prom-client names the per-label sample count `<name>_count`
  const counts = histogram?.values.filter(
    (v) => (v as { metricName?: string }).metricName === 'relay_plugin_task_duration_seconds_count',
  );
  t.deepEqual(counts?.map((v) => [v.labels.hook, v.value]).sort(), [
    ['convert', 1],
    ['inbound', 1],
  ]);
  t.like(host.stats(), { threads: 1, queued: 0, completed: 2, failed: 0 });
});

test('a burst of events in one turn is converted correctly (batched) and in order', async (t) => {
  const { host } = await startFixtureHost(t, [ECHO], { maxThreads: 2 });
  const texts = Array.from({ length: 200 }, (_, i) => `m${i}`);
  const outcomes = await Promise.all(texts.map((text) => host.runInbound(inboundInput(text))));
  t.deepEqual(
    outcomes.map((o) => (o.kind === 'event' ? o.event.text : o.kind)),
    texts,
  );
  t.is(host.stats().completed, 200);
});

test('close is idempotent and later calls fail as closed, without rejecting', async (t) => {
  const { host } = await startFixtureHost(t, [ECHO]);
  await echoThread(host);
  await Promise.all([host.close(), host.close()]);
  const outcome = await host.runInbound({ event: event('x'), sessionKey: 'k', capabilities: [] });
  t.like(outcome, { kind: 'failed', plugin: 'echo', error: { code: 'CORE_ERR_PLUGIN_POOL_CLOSED' } });
});
