/**
 * A careless plugin (spec/plugins.md, "Isolation"; docs/plugins.md §4): hooks that change their
 * arguments or their options in place instead of returning a verdict, throw a value that cannot be
 * printed, or return a result far larger than any frame. Each is a coded, counted failure of its
 * own task, or a change that is not carried — never a reply that breaks its batch, an action
 * whose op changed behind its schema's back, or an aborted process.
 */
import test from 'ava';
import { HookLogCollector } from '../../../core/plugin-host/hook-log.js';
import { event, forward, inboundInput, startFixtureHost } from './fixture-host.js';

const MUTATES = { name: 'fault-mutates', timeoutMs: 20_000 };
const send = (content: string) => ({ op: 'send', chat_id: 'c', content, reply_to: null, metadata: {} });

test('an outbound hook that swaps the op in place cannot send another op than the one validated', async (t) => {
  const { host } = await startFixtureHost(t, [MUTATES]);
  const outcome = await host.runOutbound(send('fault:swap-op'), {});
  t.like(outcome, { kind: 'ok', action: { op: 'send', content: 'fault:swap-op' } });
  t.false(outcome.kind === 'ok' && 'message_id' in outcome.action, 'the in-place change is not carried');
});

test('an outbound change made in place is not carried, as for inbound: only a returned action counts', async (t) => {
  const { host } = await startFixtureHost(t, [MUTATES]);
  t.like(await host.runOutbound(send('fault:mutate-content'), {}), {
    kind: 'ok',
    action: { content: 'fault:mutate-content' },
  });
});

test('a function added in place to an action fails nothing: its batch neighbours and itself go through', async (t) => {
  const { host, sink } = await startFixtureHost(t, [MUTATES]);
  // one turn: one pool task for the three chains
  const outcomes = await Promise.all(
    ['a', 'fault:mutate-fn', 'b'].map((content) => host.runOutbound(send(content), {})),
  );
  t.deepEqual(
    outcomes.map((o) => o.kind),
    ['ok', 'ok', 'ok'],
  );
  t.false(outcomes[1]?.kind === 'ok' && 'fn' in outcomes[1].action);
  t.is(sink.withMsg('plugin task failed').length, 0);
});

test('a function added in place to an event fails nothing: the returned capabilities are carried, the change is not', async (t) => {
  const { host, sink } = await startFixtureHost(t, [MUTATES]);
  const outcomes = await Promise.all(
    ['a', 'fault:mutate-fn', 'b'].map((text) => host.runInbound(inboundInput(text))),
  );
  t.deepEqual(
    outcomes.map((o) => o.kind),
    ['event', 'event', 'event'],
  );
  t.like(outcomes[1], { kind: 'event', event: event('fault:mutate-fn'), capabilities: ['mutates.cap'] });
  t.false(outcomes[1]?.kind === 'event' && 'fn' in outcomes[1].event);
  t.is(sink.withMsg('plugin task failed').length, 0);
});

test("a hook's options are frozen: a push into them fails that call instead of growing on every call", async (t) => {
  const { host } = await startFixtureHost(t, [MUTATES]);
  for (let i = 0; i < 3; i++) {
    t.like(await host.convertForward(forward('mutates', 'options')), {
      kind: 'failed',
      plugin: 'fault-mutates',
      error: { code: 'CORE_ERR_PLUGIN_THREW' },
    });
  }
});

test('a thrown value that cannot be printed is still reported as the hook having thrown', async (t) => {
  const { host } = await startFixtureHost(t, [MUTATES]);
  const outcome = await host.convertForward(forward('mutates', 'unprintable'));
  t.like(outcome, { kind: 'failed', error: { code: 'CORE_ERR_PLUGIN_THREW' } });
  t.true(outcome.kind === 'failed' && outcome.error.message.startsWith('hook threw: '));
});

test('a result larger than any frame is a bad result, refused in the worker before it is copied', async (t) => {
  const { host, sink } = await startFixtureHost(t, [MUTATES], { maxOldGenerationSizeMb: 128 });
  t.like(await host.convertForward(forward('mutates', 'huge')), {
    kind: 'failed',
    plugin: 'fault-mutates',
    error: { code: 'CORE_ERR_PLUGIN_BAD_RESULT' },
  });
  t.is(sink.withCode('CORE_ERR_PLUGIN_BAD_RESULT').length, 1);
});

test('log fields of a megabyte are replaced by a marker in the worker, not copied to the log', (t) => {
  const logs = new HookLogCollector();
  logs.forPosition(0).warn('update dropped', { body: 'x'.repeat(1_000_000) });
  t.deepEqual(logs.drain(), [[0, 'warn', 'update dropped', { fieldsTooLarge: true }]]);
});
