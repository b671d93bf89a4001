/**
 * A plugin's own words never carry a secret it was handed: a hook that throws with an interaction
 * token in its message (or a naive `JSON.parse` whose error quotes the body around it), a
 * signature header echoed, a converter's reason or a log line holding the token. The text reaches
 * the log, the dead letter (`dead-letters list`, `GET /v1/dead-letters`: the agent), a drop's
 * metric label (`/metrics`) and the failure the caller gets; the host takes the credentials out
 * of it on the main thread, from the task's own input (real pool, real plugin module).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { pluginModule } from '../../helpers/plugin-module.js';
import { forward, startFixtureHost } from './fixture-host.js';

/** zod as a plugin module in a temp dir imports it. */
const ZOD = pathToFileURL(createRequire(import.meta.url).resolve('zod')).href;
/** A credential a plugin takes in its options (docs/plugins.md advises against it; some will). */
const API_KEY = 'sk-option-key-0123456789abcdef';

const TOKEN = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5OkxFQUtFRFRPS0VO';
const SIGNATURE = 'deadbeefcafef00d0123456789abcdefdeadbeefcafef00d';

/** A careless converter (platform `careless`) and outbound hook: each mode shows a secret another way. */
const CARELESS = `
import { z } from ${JSON.stringify(ZOD)};
const modes = {
  // the credential of its own options, quoted in a failure
  option: (_body, _headers, _log, options) => { throw new Error('upstream refused ' + options.apiKey); },
  // the path logged as the twilio plugin does, its query holding the webhook's key
  path: (_body, _headers, log, _options, path) => {
    log.warn('webhook dropped', { reason: 'malformed', path });
    return { events: [], reason: 'malformed' };
  },
  // the token read from the body, put in the message
  thrown: (body) => { throw new Error('interaction ' + JSON.parse(body).token + ' cannot be answered'); },
  // a body cut off by the connector, parsed naively: V8 quotes it around the error
  parse: (body) => JSON.parse(body),
  // the signature header echoed
  header: (_body, headers) => {
    throw new Error('bad signature ' + headers.find((h) => h[0] === 'x-signature-ed25519')[1]);
  },
  // the token in a follow-up webhook's URL path, percent-encoded as a URL carries it
  webhook: (body, _headers, log) => {
    const path = '/api/webhooks/123/' + encodeURIComponent(JSON.parse(body).token) + '/messages/@original';
    log.warn('follow-up to https://discord.com' + path);
    // and in a query, where no path segment rule would take it out
    throw new Error('POST ' + path + ' failed: 404 (token=' + encodeURIComponent(JSON.parse(body).token) + ')');
  },
  // a URL holding its own key in a path segment, under a key not named like a credential
  respond: (body, _headers, log) => {
    log.info('answering at ' + JSON.parse(body).response_url);
    return { events: [], reason: 'deferred to ' + JSON.parse(body).response_url };
  },
  // the token as a log field's key, at the top and nested
  fieldkey: (body, _headers, log) => {
    const token = JSON.parse(body).data.token;
    log.warn('indexed by token', { [token]: 1, seen: { [token]: 'x' } });
    return { events: [], reason: 'indexed' };
  },
  // the token in the verdict's reason and in a log line
  reason: (body, _headers, log) => {
    const token = JSON.parse(body).data.token;
    log.warn('refusing interaction ' + token, { detail: 'token ' + token });
    return { events: [], reason: 'expired ' + token };
  },
};
`;

const send = (metadata: Record<string, unknown>) => ({
  op: 'send',
  chat_id: 'c',
  content: 'x',
  reply_to: null,
  metadata,
});

async function carelessHost(t: Parameters<typeof startFixtureHost>[0]) {
  const module = pluginModule(
    t,
    'careless',
    CARELESS,
    `options: z.strictObject({ apiKey: z.string().optional() }),
     passthrough: { platforms: ['careless'], convert(f, ctx) {
       const body = f.body.toString();
       return modes[f.headers.find((h) => h[0] === 'x-mode')[1]](body, f.headers, ctx.log, ctx.options, f.path);
     } },
     outbound: { ops: ['send'], hook({ action }, ctx) {
       // a refusal the agent reads, quoting the plugin's own key
       if (action.content === 'quota') return { reject: { code: 'quota', message: 'quota spent for ' + ctx.options.apiKey } };
       throw new Error('cannot send with ' + JSON.stringify(action.metadata));
     } }`,
  );
  return startFixtureHost(t, [{ name: 'careless', module, timeoutMs: 10_000, options: { apiKey: API_KEY } }]);
}

function carelessForward(mode: string, body: string, headers: [string, string][] = []) {
  const f = forward('careless', body);
  return { ...f, headers: [...f.headers, ['x-mode', mode], ...headers] as [string, string][] };
}

test("a hook's failure, its reason and its log lines hold no credential of its input", async (t) => {
  const { host, sink, metrics } = await carelessHost(t);
  const outcomes = [
    await host.convertForward(carelessForward('thrown', JSON.stringify({ type: 2, token: TOKEN }))),
    // cut off right after the token: V8 quotes the text before the position it stopped at
    await host.convertForward(carelessForward('parse', `{"type":2,"data":{"name":"x"},"token":${TOKEN}}`)),
    await host.convertForward(
      carelessForward('header', '{}', [
        ['x-signature-ed25519', SIGNATURE],
        ['authorization', `Bot ${TOKEN}`],
      ]),
    ),
    await host.convertForward(carelessForward('reason', JSON.stringify({ data: { token: TOKEN } }))),
    await host.runOutbound(send({ interaction_token: TOKEN }) as never, {}),
    await host.convertForward(carelessForward('option', '{}')),
    await host.convertForward({ ...carelessForward('path', '{}'), path: `/hook?token=${TOKEN}` }),
    await host.runOutbound({ ...send({}), content: 'quota' } as never, {}),
  ];
  t.deepEqual(
    outcomes.map((o) => o.kind),
    ['failed', 'failed', 'failed', 'rejected', 'failed', 'failed', 'rejected', 'rejected'],
  );
  // the failures still say what happened, without the value
  t.like(outcomes[0], { error: { code: 'CORE_ERR_PLUGIN_THREW' } });
  t.regex(JSON.stringify(outcomes[1]), /not valid JSON/);
  t.regex(JSON.stringify(outcomes[2]), /bad signature \[redacted\]/);
  t.true(sink.withMsg('plugin task failed').length >= 4);
  t.is(sink.withMsg('refusing interaction [redacted]').length, 1);
  const texts: [string, string][] = [
    ['log', sink.text()],
    // a reason without a colon is its own relay_plugin_dropped_total label
    ['metrics', await metrics.registry.metrics()],
    ...outcomes.map((o, i): [string, string] => [`outcome ${i}`, JSON.stringify(o)]),
  ];
  const leaks = texts.flatMap(([where, text]) =>
    [
      ['token', TOKEN],
      ['token fragment', TOKEN.slice(0, 10)],
      ['signature', SIGNATURE],
      ['option key', API_KEY],
    ]
      .filter(([, needle]) => text.includes(needle as string))
      .map(([what]) => `${what} in ${where}`),
  );
  t.deepEqual(leaks, []);
});

test("a plugin's refusal of its options does not quote the credential given in them", async (t) => {
  // a refinement whose message quotes the value it refused, as zod lets a schema do
  const module = pluginModule(
    t,
    'picky',
    `import { z } from ${JSON.stringify(ZOD)};`,
    `options: z.strictObject({ apiKey: z.string().refine((v) => v.startsWith('pk-'), {
       error: (issue) => 'not a pk- key: ' + issue.input,
     }) })`,
  );
  const err = await t.throwsAsync(
    startFixtureHost(t, [{ name: 'picky', module, options: { apiKey: API_KEY } }]),
    { instanceOf: RelayError },
  );
  t.is(err?.code, 'CORE_ERR_PLUGIN_OPTIONS_INVALID');
  t.regex(err?.message ?? '', /apiKey: not a pk- key: \[redacted\]/);
  t.false(JSON.stringify({ message: err?.message, details: err?.details }).includes(API_KEY));
});

test('a credential percent-encoded in the query is taken out of the path a plugin logs', async (t) => {
  const { host, sink } = await carelessHost(t);
  // a base64 key as a webhook URL carries it: its '+', '/' and '=' percent-encoded
  const key = 'c2VjcmV0K2tleS9mb3I/d2ViaG9vaz0+Pz8/';
  const encoded = encodeURIComponent(key);
  t.not(encoded, key);
  const outcome = await host.convertForward({
    ...carelessForward('path', '{}'),
    path: `/hook?token=${encoded}`,
  });
  t.is(outcome.kind, 'rejected');
  t.is(sink.withMsg('webhook dropped').length, 1);
  // was: the path logged as it came, the key in its encoded form (only the decoded value was searched)
  t.false(sink.text().includes(encoded), 'the encoded key is not in the log');
  t.false(sink.text().includes(encoded.slice(0, 12)), 'nor its start');
});

test('a body of many credential-named values first cannot crowd the real token out of the words', async (t) => {
  const { host, sink } = await carelessHost(t);
  const decoys = Object.fromEntries(
    Array.from({ length: 40 }, (_, i) => [`k${i}_token`, `decoy-value-${i}-xx`]),
  );
  const outcome = await host.convertForward(
    carelessForward('reason', JSON.stringify({ ...decoys, data: { token: TOKEN } })),
  );
  t.is(outcome.kind, 'rejected');
  // was: the first 32 decoys filled the search, and the token went out in the log and the reason
  t.is(sink.withMsg('refusing interaction [redacted]').length, 1);
  t.false(sink.text().includes(TOKEN.slice(0, 10)));
  t.false(JSON.stringify(outcome).includes(TOKEN.slice(0, 10)));
});

test("a token in a URL's path segment, percent-encoded, is taken out of a log line and a failure", async (t) => {
  const { host, sink } = await carelessHost(t);
  // a base64 token as Discord's follow-up webhook path carries it: '+', '/', '=' encoded
  const token = 'aW50ZXJhY3Rpb246+MTIz/NDU2Nzg5OkxFQUtFRFRPS0VO==';
  const encoded = encodeURIComponent(token);
  t.not(encoded, token);
  const outcome = await host.convertForward(carelessForward('webhook', JSON.stringify({ type: 2, token })));
  t.is(outcome.kind, 'failed');
  t.is(
    sink.withMsg('follow-up to https://discord.com/api/webhooks/123/[redacted]/messages/@original').length,
    1,
  );
  t.regex(
    JSON.stringify(outcome),
    /POST \/api\/webhooks\/123\/\[redacted\]\/messages\/@original failed: 404 \(token=\[redacted\]\)/,
  );
  for (const needle of [encoded.slice(0, 12), token.slice(0, 12)]) {
    t.false(sink.text().includes(needle), needle);
    t.false(JSON.stringify(outcome).includes(needle), needle);
  }
});

test('a key-like path segment of a URL the host was not told of is taken out of a log line and a reason', async (t) => {
  const { host, sink } = await carelessHost(t);
  // Slack's response_url: its last segment is the key, its key name says nothing
  const key = 'AbCdEfGh1jKlMnOpQrStUvWx';
  const url = `https://hooks.slack.com/actions/T0MJR11A4/1234567890/${key}`;
  const outcome = await host.convertForward(
    carelessForward('respond', JSON.stringify({ response_url: url })),
  );
  t.is(outcome.kind, 'rejected');
  // was: the URL logged whole (only a failure loses its URLs)
  t.is(
    sink.withMsg('answering at https://hooks.slack.com/actions/T0MJR11A4/1234567890/[redacted]').length,
    1,
  );
  t.false(sink.text().includes(key));
  t.false(JSON.stringify(outcome).includes(key));
});

test("a credential used as a log field's key is taken out of the line", async (t) => {
  const { host, sink } = await carelessHost(t);
  const outcome = await host.convertForward(
    carelessForward('fieldkey', JSON.stringify({ data: { token: TOKEN } })),
  );
  t.is(outcome.kind, 'rejected');
  const [line] = sink.withMsg('indexed by token');
  // the line is kept, its fields' keys searched as their values are (was: the keys as they came)
  t.truthy(line);
  t.false(JSON.stringify(line).includes(TOKEN.slice(0, 10)), JSON.stringify(line));
  t.like(line, { '[redacted]': 1, seen: { '[redacted]': 'x' } });
});
