import test from 'ava';
import { validateAction } from '../../../core/plugin-host/action-validator.js';
import { parseManifest } from '../../../core/plugin-host/manifest.js';
import { loadPlugins } from '../../../core/plugin-host/plugin-loader.js';
import { PluginTable } from '../../../core/plugin-host/plugin-table.js';
import { type Entry, manifestOf } from './fixture-host.js';

async function table(entries: Entry[]) {
  const path = '/irrelevant/plugins.json';
  return new PluginTable((await loadPlugins(parseManifest(manifestOf(entries), path, 2_000), path)).enabled);
}

test('core ops validate with the core schema and get their defaults', async (t) => {
  const result = validateAction({ op: 'send', chat_id: 'c', content: 'hi' }, await table([]));
  t.deepEqual(result, {
    ok: true,
    action: { op: 'send', chat_id: 'c', content: 'hi', reply_to: null, metadata: {} },
  });
});

test('an invalid core action is 400 invalid_action with zod issues', async (t) => {
  const result = validateAction({ op: 'send', chat_id: '', content: 1 }, await table([]));
  if (result.ok) return t.fail('accepted');
  t.is(result.status, 400);
  t.is(result.code, 'invalid_action');
  t.true(Array.isArray(result.issues) && result.issues.length >= 2);
});

test('non-objects and a missing op are 400', async (t) => {
  const tbl = await table([]);
  for (const raw of [null, 'send', [1], {}, { op: 7 }, { op: '' }]) {
    const result = validateAction(raw, tbl);
    t.false(result.ok);
    if (!result.ok) t.is(result.status, 400, JSON.stringify(raw));
  }
});

test('a plugin op passes unchanged: its schema is plugin code and runs in the pool, not here', async (t) => {
  const tbl = await table([{ name: 'echo' }]);
  // echo_ping's strict schema refuses `extra`: unrun, it passes, as the agent sent it
  const raw = { op: 'echo_ping', chat_id: 'c', extra: 1 };
  const result = validateAction(raw, tbl);
  t.deepEqual(result, { ok: true, action: raw });
  t.deepEqual(tbl.knownOps().slice(-1), ['echo_ping']);
  t.deepEqual(tbl.validatedChain('echo_ping'), [0, 0], 'its owner (the schema), then its outbound hook');
  t.deepEqual(tbl.validatedChain('send'), [], 'a core op is never validated in the pool');
});

test('unknown ops and ops of disabled plugins are 422 unsupported_op', async (t) => {
  const tbl = await table([{ name: 'echo', enabled: false }]);
  for (const op of ['echo_ping', 'teleport']) {
    const result = validateAction({ op, chat_id: 'c' }, tbl);
    t.like(result, { ok: false, status: 422, code: 'unsupported_op' });
  }
  t.false(tbl.knownOps().includes('echo_ping'));
});

test('a prompt needs ids its buttons can carry back (hp1:<prompt_id>:<option_id>) and at least one option', async (t) => {
  const tbl = await table([]);
  const prompt = (over: Record<string, unknown>) => ({
    op: 'prompt',
    chat_id: 'c',
    content: 'approve?',
    prompt_kind: 'approval',
    prompt_id: 'p.1',
    options: [
      { id: 'yes', label: 'Yes' },
      { id: 'no', label: 'No' },
    ],
    ...over,
  });
  t.true(validateAction(prompt({}), tbl).ok);
  t.true(validateAction(prompt({ prompt_id: 'A'.repeat(32) }), tbl).ok);
  for (const over of [
    { prompt_id: 'a:b' },
    { prompt_id: 'A'.repeat(33) },
    { prompt_id: '' },
    { options: [{ id: 'y:n', label: 'Yes' }] },
    { options: [{ id: 'yes', label: '' }] },
    { options: [] },
  ]) {
    t.like(
      validateAction(prompt(over), tbl),
      { ok: false, status: 400, code: 'invalid_action' },
      JSON.stringify(over),
    );
  }
});
