/**
 * Property-based fuzzing of the agent API on a real in-process sidecar (real HTTP server, pool,
 * SQLite, relay socket to a dev connector): random and mutated action bodies, random methods,
 * paths and query strings, random headers, and raw requests whose Content-Length does not match
 * the body or whose chunked framing is garbage. Every request gets an answer, never a 5xx; an
 * error is `{error: {code, message, issues?}}`; no answer holds the relay secret or the API token,
 * and an error message never quotes the request body. fast-check prints the seed of a failure.
 */
import { connect } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { type InProcess, secretOf, startConnector, startInProcess, WAIT } from '../../e2e/e2e-harness.js';
import { type Json, MARKER, mutate, mutation } from '../../helpers/json-mutation.js';

let sc: InProcess;
let secret: string;
let port: number;

// one sidecar for every property (hooks have no t.teardown: a stand-in collects the cleanups)
const cleanups: (() => unknown)[] = [];
const shared = { teardown: (fn: () => unknown) => cleanups.unshift(fn) } as unknown as ExecutionContext;

test.before(async () => {
  const t = shared;
  secret = secretOf('relay');
  const connector = await startConnector(t, secret);
  sc = await startInProcess(t, { connector, secret });
  await connector.waitForConnection(WAIT);
  const address = sc.sidecar.api.address();
  if (address?.kind !== 'tcp') throw new Error('expected a TCP API');
  port = address.port;
});

test.after.always(async () => {
  for (const fn of cleanups) await fn();
});

/** One action per op of the contract's outbound table, valid as written. */
const ACTIONS: readonly Record<string, Json>[] = [
  { op: 'send', chat_id: 'c1', content: 'hi', reply_to: null, metadata: {} },
  { op: 'edit', chat_id: 'c1', message_id: 'm1', content: 'hi', metadata: {} },
  { op: 'typing', chat_id: 'c1', metadata: {} },
  {
    op: 'follow_up',
    session_key: 'agent:main:discord:dm:c1',
    kind: 'discord.interaction_token',
    content: 'x',
  },
  { op: 'get_chat_info', chat_id: 'c1' },
  { op: 'send_media', chat_id: 'c1', media_kind: 'image', source_url: 'https://x/y.png', content: '' },
  {
    op: 'prompt',
    chat_id: 'c1',
    content: 'ok?',
    prompt_kind: 'approval',
    prompt_id: 'p1',
    options: [{ id: 'yes', label: 'Yes' }],
    reply_to: null,
    metadata: {},
  },
  { op: 'react', chat_id: 'c1', message_id: 'm1', emoji: '👍', remove: false, metadata: {} },
  { op: 'thread_create', chat_id: 'c1', thread_name: 't', metadata: {} },
  { op: 'thread_rename', chat_id: 'c1', message_id: 'th1', thread_name: 't2', metadata: {} },
];

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers | Record<string, string>;
}

/**
 * What every answer must satisfy; `ofBody`: the request body is the generated part, so a parse
 * error must not quote it (names are echoed by design: `no route for GET /x`, `op "x" is not
 * supported`).
 */
function checkAnswer(a: Answer, what: string, ofBody = false): void {
  if (a.status >= 500) throw new Error(`${what}: ${a.status} ${a.text.slice(0, 300)}`);
  for (const s of [secret, sc.token]) {
    if (a.text.includes(s)) throw new Error(`${what}: a secret in the answer`);
  }
  if (a.status < 400) return;
  let body: { error?: { code?: unknown; message?: unknown; issues?: unknown } };
  try {
    body = JSON.parse(a.text);
  } catch {
    throw new Error(`${what}: ${a.status} answer is not JSON: ${a.text.slice(0, 200)}`);
  }
  const e = body.error;
  if (typeof e?.code !== 'string' || typeof e.message !== 'string') {
    throw new Error(`${what}: not the error shape: ${a.text.slice(0, 300)}`);
  }
  if (e.issues !== undefined && !Array.isArray(e.issues)) throw new Error(`${what}: issues is not a list`);
  if (ofBody && e.code === 'invalid_json' && e.message.includes(MARKER))
    throw new Error(`${what}: the message quotes the body: ${e.message}`);
}

async function call(method: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...init });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const bearer = () => ({ authorization: `Bearer ${sc.token}` });

test.serial(
  'POST /v1/actions with any body: 2xx or a 4xx of the error shape, never a 5xx or a secret',
  async (t) => {
    const body = fc.oneof(
      fc
        .tuple(fc.constantFrom(...ACTIONS), fc.array(mutation, { minLength: 1, maxLength: 3 }))
        .map(([a, ms]) => JSON.stringify(mutate(a, ms))),
      fc.constantFrom(...ACTIONS).map((a) => JSON.stringify(a)),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? ''),
      fc.string({ unit: 'binary', maxLength: 80 }).map((s) => `${MARKER}${s}`),
      fc.string({ maxLength: 40 }).map((s) => `{"op":"send","chat_id":${MARKER}${s}`),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'text/plain',
      '',
      'application/json; charset=latin1',
    );
    await fc.assert(
      fc.asyncProperty(body, contentType, async (text, ct) => {
        const headers: Record<string, string> = { ...bearer(), ...(ct ? { 'content-type': ct } : {}) };
        checkAnswer(
          await call('POST', '/v1/actions', { headers, body: text }),
          `actions ${text.slice(0, 200)}`,
          true,
        );
      }),
      { numRuns: 120, includeErrorInReport: true },
    );
    t.is(sc.sink.withCode('CORE_ERR_API_HANDLER_FAILED').length, 0);
  },
);

test.serial(
  'any method, path and query, with or without the token: never a 5xx; errors have the shape',
  async (t) => {
    const segment = fc.oneof(
      fc.constantFrom(
        'v1',
        'actions',
        'events',
        'ack',
        'chats',
        'dead-letters',
        'replay',
        'status',
        'interrupt',
        '',
      ),
      fc.constantFrom('%ZZ', '%E0%A4%A', '%00', '..', '%2F', '__proto__', 'constructor', MARKER),
      fc.webSegment(),
    );
    const path = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`);
    const query = fc.option(
      fc.oneof(
        fc.webQueryParameters(),
        fc.constantFrom('limit=0', 'limit=999999', 'limit=-1', 'limit=%ZZ', 'limit=1&limit=2'),
      ),
    );
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');
    await fc.assert(
      fc.asyncProperty(method, path, query, fc.boolean(), async (m, p, q, auth) => {
        const url = q === null ? p : `${p}?${q}`;
        // never a stream: an event stream stays open by design
        if (m === 'GET' && /^\/v1\/events\/?$/.test(p)) return;
        const init: RequestInit = { headers: auth ? bearer() : {} };
        if (m === 'POST' || m === 'PUT' || m === 'PATCH') init.body = '{}';
        const a = await call(m, url, init);
        if (m !== 'HEAD') checkAnswer(a, `${m} ${url}`);
        else if (a.status >= 500) throw new Error(`HEAD ${url}: ${a.status}`);
      }),
      { numRuns: 200, includeErrorInReport: true },
    );
    t.is(sc.sink.withCode('CORE_ERR_API_HANDLER_FAILED').length, 0);
  },
);

/** Send raw bytes, end the writing side, and read the whole answer (bounded by `timeoutMs`). */
function raw(request: Buffer, timeoutMs = 10_000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const head = text.slice(0, text.indexOf('\r\n\r\n'));
      const body = text.slice(head.length + 4);
      resolve({ status, text: /^transfer-encoding: *chunked/im.test(head) ? dechunk(body) : body });
    });
    socket.end(request);
  });
}

/** The payload of a chunked body. */
function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (eol === -1 || !(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 4 + size);
  }
}

test.serial(
  'raw requests: Content-Length mismatches, garbage chunks, odd headers: an answer, never a 5xx',
  async (t) => {
    const header = fc.tuple(
      fc.constantFrom(
        'content-type',
        'x-relay',
        'accept',
        'content-encoding',
        'expect',
        'x-forwarded-for',
        'origin',
      ),
      fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, '')),
    );
    const framing = fc.oneof(
      // declared shorter, equal or longer than what is sent (the client then half-closes)
      fc.record({ kind: fc.constant('length' as const), delta: fc.integer({ min: -20, max: 20 }) }),
      fc.record({
        kind: fc.constant('chunked' as const),
        chunks: fc.array(
          fc.oneof(
            fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 4 }),
            fc.string({ maxLength: 12 }),
          ),
          { maxLength: 4 },
        ),
      }),
      fc.record({ kind: fc.constant('none' as const) }),
    );
    const body = fc.oneof(
      fc.constantFrom(...ACTIONS).map((a) => JSON.stringify(a)),
      fc.string({ maxLength: 60 }).map((s) => `${MARKER}${s}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/actions', '/v1/interrupt', '/v1/status', '/healthz', '/v1/events/x/ack'),
        fc.array(header, { maxLength: 4 }),
        framing,
        body,
        async (path, headers, f, text) => {
          const bytes = Buffer.from(text);
          const lines = [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', `authorization: Bearer ${sc.token}`];
          for (const [k, v] of headers) lines.push(`${k}: ${v}`);
          let payload: Buffer = bytes;
          if (f.kind === 'length') lines.push(`content-length: ${Math.max(0, bytes.length + f.delta)}`);
          if (f.kind === 'chunked') {
            lines.push('transfer-encoding: chunked');
            payload = Buffer.from(f.chunks.map((c) => `${c}\r\n`).join(''));
          }
          lines.push('connection: close');
          const request = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), payload]);
          const a = await raw(request);
          if (a.status >= 500)
            throw new Error(`${path} ${JSON.stringify(f)}: ${a.status} ${a.text.slice(0, 200)}`);
          // 0: the server closed without a word (node's rule: a connection already answered on)
          if (a.status !== 0)
            checkAnswer({ status: a.status, text: a.text, headers: {} }, `raw ${path}`, true);
        },
      ),
      { numRuns: 80, includeErrorInReport: true },
    );
    t.is(sc.sink.withCode('CORE_ERR_API_HANDLER_FAILED').length, 0);
  },
);
