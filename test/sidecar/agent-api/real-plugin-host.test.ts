/**
 * The action pipeline on the real PluginHost: the project's own `plugins.json` (the four built-in
 * plugins), the real piscina pool and the real SQLite store in a temp dir.
 */
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { validateConfig } from '../../../core/config/load.js';
import { createLogger } from '../../../core/log/logger.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { PluginHost } from '../../../core/plugin-host/plugin-host.js';
import { MessageEventSchema } from '../../../core/protocol/payloads.js';
import { descriptor, postJson, startApi, tempDir } from './api-harness.js';

const MANIFEST = fileURLToPath(new URL('../../../../plugins.json', import.meta.url));
const IDENTITIES = [
  { platform: 'discord', botId: 'B1' },
  { platform: 'slack', botId: 'S1' },
];

async function withRealHost(t: ExecutionContext, metrics = new Metrics()) {
  const dataDir = tempDir(t, 'agent-api-host-');
  const config = validateConfig({
    dataDir,
    relay: { identities: IDENTITIES },
    // generous task budget: a loaded CI machine must not turn a slow hook into plugin_failed
    pool: { minThreads: 1, maxThreads: 1, taskTimeoutMs: 10_000 },
  });
  const host = await PluginHost.load({
    manifestPath: MANIFEST,
    config,
    log: createLogger({ level: 'silent' }),
    metrics,
  });
  t.teardown(() => host.close());
  const h = await startApi(t, { config: { relay: { identities: IDENTITIES } }, deps: { plugins: host } });
  return { h, host };
}

interface ErrorBody {
  error: { code: string; plugin?: string; issues?: unknown[] };
}

test('real host: a follow_up carrying a credential ⇒ 400 credential_in_follow_up, nothing sent', async (t) => {
  const { h } = await withRealHost(t);
  const res = await postJson(h, '/v1/actions', {
    op: 'follow_up',
    session_key: 'agent:main:discord:group:C1:U1',
    kind: 'discord.interaction_token',
    content: 'done',
    interactionToken: 'should-never-travel',
  });
  t.is(res.status, 400);
  const text = await res.text();
  const body = JSON.parse(text) as ErrorBody;
  t.is(body.error.code, 'credential_in_follow_up');
  t.is(body.error.plugin, 'follow-up');
  t.false(text.includes('should-never-travel'));
  t.is(h.client.sent.length, 0);
});

test('real host: a clean follow_up goes out with the profile and the platform of its kind', async (t) => {
  const { h } = await withRealHost(t);
  const res = await postJson(h, '/v1/actions', {
    op: 'follow_up',
    session_key: 'agent:reviewer:discord:group:C1:U1',
    kind: 'discord.interaction_token',
    content: 'done',
  });
  t.is(res.status, 200, await res.text());
  const sent = h.client.sent[0]!;
  t.is(sent.action.op, 'follow_up');
  t.deepEqual(sent.tags, { platform: 'discord', botId: 'B1' });
  t.is((sent.action.metadata as Record<string, unknown>).profile, 'reviewer');
});

test('real host: scope re-attach adds the remembered scope and tags the platform', async (t) => {
  const { h, host } = await withRealHost(t);
  const event = MessageEventSchema.parse({
    text: 'hi',
    source: { platform: 'slack', chat_id: 'C7', chat_type: 'group', user_id: 'U7', scope_id: 'T7' },
  });
  const inbound = await host.runInbound({
    event,
    sessionKey: 'agent:main:slack:group:T7:C7:U7',
    capabilities: [],
  });
  t.is(inbound.kind, 'event');
  h.client.descriptorMap.set('slack', descriptor('slack'));
  const res = await postJson(h, '/v1/actions', { op: 'send', chat_id: 'C7', content: 'hello' });
  t.is(res.status, 200, await res.text());
  const sent = h.client.sent[0]!;
  t.is((sent.action.metadata as Record<string, unknown>).scope_id, 'T7');
  t.is((sent.action.metadata as Record<string, unknown>).user_id, 'U7');
  t.is(sent.tags.platform, 'slack');
});

test('real host: invalid and unknown actions are refused by the real validator', async (t) => {
  const { h } = await withRealHost(t);
  const invalid = await postJson(h, '/v1/actions', { op: 'send', chat_id: 'C1' });
  t.is(invalid.status, 400);
  const body = (await invalid.json()) as ErrorBody;
  t.is(body.error.code, 'invalid_action');
  t.true((body.error.issues ?? []).length > 0);
  const unknown = await postJson(h, '/v1/actions', { op: 'teleport' });
  t.is(unknown.status, 422);
  t.is(((await unknown.json()) as ErrorBody).error.code, 'unsupported_op');
});

test('real host: /v1/status lists the built-in plugins and pool figures, no options', async (t) => {
  const { h } = await withRealHost(t);
  const res = await h.call('/v1/status');
  const body = (await res.json()) as {
    plugins: Record<string, unknown>[];
    pool: Record<string, number>;
  };
  t.deepEqual(
    body.plugins.map((p) => p.name),
    ['scope-reattacher', 'follow-up', 'discord-interaction', 'twilio'],
  );
  for (const p of body.plugins) t.false('options' in p);
  t.deepEqual(Object.keys(body.pool).sort(), ['completed', 'failed', 'queued', 'threads']);
  t.true((body.pool.threads ?? 0) >= 1);
});

test('real host: a 10 000-level metadata ⇒ 400 json_too_deep; valid actions sent with it succeed', async (t) => {
  const metrics = new Metrics();
  const { h } = await withRealHost(t, metrics);
  // a worker that structured-clones this overflows its stack and dies with its whole batch
  const levels = 10_000;
  const deep = `{"op":"send","chat_id":"C1","content":"deep","metadata":{"x":${'['.repeat(levels)}${']'.repeat(levels)}}}`;
  const calls: Promise<[string, number, string]>[] = [];
  for (let i = 0; i < 20; i++) {
    calls.push(postJson(h, '/v1/actions', deep).then(async (r) => ['deep', r.status, await r.text()]));
    calls.push(
      postJson(h, '/v1/actions', { op: 'send', chat_id: 'C1', content: `n${i}` }).then(async (r) => [
        'valid',
        r.status,
        await r.text(),
      ]),
    );
  }
  const answers = await Promise.all(calls);
  for (const [kind, status, text] of answers) {
    if (kind === 'deep') {
      t.is(status, 400);
      t.is((JSON.parse(text) as ErrorBody).error.code, 'json_too_deep');
    } else {
      t.is(status, 200, text);
    }
  }
  t.is(h.client.sent.length, 20);
  t.true(h.client.sent.every((s) => s.action.content !== 'deep'));
  t.is(await metrics.value('relay_errors_total', { code: 'CORE_ERR_PLUGIN_WORKER_DIED' }), 0);
  // the same worker still serves, also an action at the depth limit (64 levels, 62 in metadata)
  const edge = `{"op":"send","chat_id":"C1","content":"edge","metadata":{"x":${'['.repeat(62)}${']'.repeat(62)}}}`;
  const after = await postJson(h, '/v1/actions', edge);
  t.is(after.status, 200, await after.text());
});

test("real host: the connector's success:false to a follow_up is the agent's answer as is, sent once", async (t) => {
  // plugins.md, follow-up: absent, expired or foreign capability ⇒ success:false, never retried
  const { h } = await withRealHost(t);
  const refusal = { success: false, error: 'capability expired' };
  h.client.reply = async () => refusal;
  const res = await postJson(h, '/v1/actions', {
    op: 'follow_up',
    session_key: 'agent:main:discord:group:C1:U1',
    kind: 'discord.interaction_token',
    content: 'late',
  });
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { result: refusal });
  t.is(h.client.sent.length, 1);
});

test('real host: a follow_up without kind for a session with no capability ⇒ 400, nothing sent', async (t) => {
  const { h } = await withRealHost(t);
  const res = await postJson(h, '/v1/actions', {
    op: 'follow_up',
    session_key: 'agent:main:discord:group:C9:U9',
    content: 'hello?',
  });
  t.is(res.status, 400);
  t.is(((await res.json()) as ErrorBody).error.code, 'missing_kind');
  t.is(h.client.sent.length, 0);
});
