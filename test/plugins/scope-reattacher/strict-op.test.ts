/**
 * scope-reattacher on plugin-defined ops, through the real pool: its outbound hook covers `'*'`
 * and adds `metadata` after the op's schema ran, so an op whose strict schema has no `metadata`
 * field went to the connector with a field its own schema refuses. The amended action is now
 * checked against the op's schema again (when that schema accepts its own output) and refused.
 */
import test, { type ExecutionContext } from 'ava';
import { MessageEventSchema, sessionKey } from '../../../core/index.js';
import { fixture } from '../../core/plugin-host/fixture-host.js';
import { builtinModule, type Harness, startHost } from '../host-harness.js';

const groupEvent = MessageEventSchema.parse({
  text: 'hi',
  source: { platform: 'discord', chat_id: 'c1', chat_type: 'group', scope_id: 'g1', user_id: 'u1' },
});

async function learnedHost(t: ExecutionContext): Promise<Harness> {
  const h = await startHost(
    (fn) => t.teardown(fn),
    [
      { name: 'scope-reattacher', module: builtinModule('scope-reattacher') },
      { name: 'strict-ops', module: fixture('strict-ops') },
    ],
    [{ platform: 'discord', botId: 'B1' }],
  );
  const learned = await h.host.runInbound({
    event: groupEvent,
    sessionKey: sessionKey(groupEvent.source),
    capabilities: [],
  });
  if (learned.kind !== 'event') throw new Error(`inbound: ${JSON.stringify(learned)}`);
  return h;
}

async function outbound(h: Harness, raw: Record<string, unknown>) {
  const validated = h.host.validateAction(raw);
  if (!validated.ok) throw new Error(`validate: ${JSON.stringify(validated)}`);
  return h.host.runOutbound(validated.action, {});
}

test('a strict op without metadata: the re-attached action its schema refuses is never sent', async (t) => {
  const h = await learnedHost(t);
  const outcome = await outbound(h, { op: 'pin_note', chat_id: 'c1', note: 'x' });
  // was: kind 'ok' with metadata {scope_id, user_id, guild_id}, sent as it was
  t.like(outcome, {
    kind: 'failed',
    plugin: 'scope-reattacher',
    error: { code: 'CORE_ERR_PLUGIN_BAD_RESULT' },
  });
  if (outcome.kind !== 'failed') return;
  // names the op, the field and the fix, never a value
  t.regex(outcome.error.message, /op "pin_note"/);
  t.regex(outcome.error.message, /metadata/);
  t.false(outcome.error.message.includes('g1'));
  const failed = h.lines().filter((l) => l.code === 'CORE_ERR_PLUGIN_BAD_RESULT');
  t.is(failed.length, 1);
  t.like(failed[0], { plugin: 'scope-reattacher', hook: 'outbound' });
});

test('a strict op that has metadata gets it re-attached; a mapping schema is not checked again', async (t) => {
  const h = await learnedHost(t);
  t.deepEqual(await outbound(h, { op: 'pin_tagged', chat_id: 'c1', note: 'x' }), {
    kind: 'ok',
    action: {
      op: 'pin_tagged',
      chat_id: 'c1',
      note: 'x',
      metadata: { scope_id: 'g1', user_id: 'u1', guild_id: 'g1' },
    },
    platform: 'discord',
    botId: 'B1',
  });
  // its schema maps text to note and refuses its own output: the amended action is sent as it is
  t.like(await outbound(h, { op: 'pin_mapped', chat_id: 'c1', text: 'x' }), {
    kind: 'ok',
    action: { op: 'pin_mapped', note: 'x', metadata: { scope_id: 'g1' } },
  });
});

test('the re-check parses a copy: a schema that changes its input in place does not change what is sent', async (t) => {
  const h = await learnedHost(t);
  t.like(await outbound(h, { op: 'pin_counted', chat_id: 'c1' }), {
    kind: 'ok',
    action: { op: 'pin_counted', parses: 1, metadata: { scope_id: 'g1' } },
  });
});
