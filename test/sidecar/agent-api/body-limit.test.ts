/**
 * The body cap on every route (agent-api.md: "Bodies are JSON, max 1 MiB (413 beyond)"), also on
 * routes that have no use for a body: a declared Content-Length over the cap is refused unread, a
 * chunked body is read and dropped up to the cap and refused beyond it. The token check comes first.
 */
import { once } from 'node:events';
import http from 'node:http';
import { connect } from 'node:net';
import test from 'ava';
import { type Harness, startApi } from './api-harness.js';

interface RawAnswer {
  readonly status: number;
  readonly body: { error?: { code: string } } & Record<string, unknown>;
}

/**
 * One request over node:http (fetch sends no body with GET): `declared` sends a Content-Length,
 * otherwise the bytes go chunked, in chunks of `chunkBytes`.
 */
function raw(
  h: Harness,
  method: string,
  path: string,
  opts: { bytes: number; declared: boolean; token?: string | null; chunkBytes?: number },
): Promise<RawAnswer> {
  const headers: Record<string, string | number> = { 'content-type': 'application/json' };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? h.token}`;
  // node:http does not chunk a GET by default: ask for it
  if (opts.declared) headers['content-length'] = opts.bytes;
  else headers['transfer-encoding'] = 'chunked';
  return new Promise((resolve, reject) => {
    const req = http.request(`${h.base}${path}`, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      res.on('error', reject);
    });
    // the server may answer and drop the connection before the whole body is written
    req.on('error', () => undefined);
    const chunk = Buffer.alloc(opts.chunkBytes ?? 256, 0x20);
    let left = opts.bytes;
    while (left > 0) {
      req.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      left -= chunk.length;
    }
    req.end();
  });
}

/** Routes that ignore their body, with what they answer when the body is within the cap. */
const IGNORING: { method: string; path: string; status: number }[] = [
  { method: 'GET', path: '/v1/status', status: 200 },
  { method: 'POST', path: '/v1/events/dlv_1/ack', status: 204 },
  { method: 'POST', path: '/v1/dead-letters/dl_1/replay', status: 404 },
  { method: 'GET', path: '/v1/chats/C1', status: 200 },
];

for (const route of IGNORING) {
  test(`${route.method} ${route.path}: a declared body over the cap ⇒ 413, a chunked one too`, async (t) => {
    const h = await startApi(t, { config: { api: { maxBodyBytes: 1024 } } });
    h.pull.outstanding.add('dlv_1');
    const declared = await raw(h, route.method, route.path, { bytes: 4096, declared: true });
    t.is(declared.status, 413);
    t.is(declared.body.error?.code, 'body_too_large');
    const chunked = await raw(h, route.method, route.path, { bytes: 4096, declared: false });
    t.is(chunked.status, 413);
    t.is(chunked.body.error?.code, 'body_too_large');
    // nothing happened behind the refused calls: the delivery is still outstanding
    t.true(h.pull.outstanding.has('dlv_1'));
    t.is(h.client.sent.length, 0);
    // within the cap the body is read, dropped, and the route answers as usual
    const within = await raw(h, route.method, route.path, { bytes: 1024, declared: false });
    t.is(within.status, route.status);
  });
}

test('the default cap is 1 MiB: a 3 MB body on GET /v1/status ⇒ 413, 1 MiB passes', async (t) => {
  const h = await startApi(t);
  const big = await raw(h, 'GET', '/v1/status', { bytes: 3_000_000, declared: true, chunkBytes: 65_536 });
  t.is(big.status, 413);
  const chunked = await raw(h, 'GET', '/v1/status', {
    bytes: 3_000_000,
    declared: false,
    chunkBytes: 65_536,
  });
  t.is(chunked.status, 413);
  const exact = await raw(h, 'GET', '/v1/status', {
    bytes: 1024 * 1024,
    declared: false,
    chunkBytes: 65_536,
  });
  t.is(exact.status, 200);
});

test('the cap is exact: a body of maxBodyBytes passes, one byte more is refused, declared or chunked', async (t) => {
  const h = await startApi(t, { config: { api: { maxBodyBytes: 1024 } } });
  for (const declared of [true, false]) {
    const at = await raw(h, 'GET', '/v1/status', { bytes: 1024, declared });
    t.is(at.status, 200, `${declared ? 'declared' : 'chunked'}: exactly the cap`);
    const over = await raw(h, 'GET', '/v1/status', { bytes: 1025, declared });
    t.is(over.status, 413, `${declared ? 'declared' : 'chunked'}: one byte over`);
    t.is(over.body.error?.code, 'body_too_large');
  }
});

test('public routes are capped too: GET /healthz with a body over the cap ⇒ 413', async (t) => {
  const h = await startApi(t, { config: { api: { maxBodyBytes: 1024 } } });
  const res = await raw(h, 'GET', '/healthz', { bytes: 4096, declared: true, token: null });
  t.is(res.status, 413);
  const ok = await raw(h, 'GET', '/healthz', { bytes: 512, declared: false, token: null });
  t.is(ok.status, 200);
});

test('the token is checked before the body: no token and a body over the cap ⇒ 401', async (t) => {
  const h = await startApi(t, { config: { api: { maxBodyBytes: 1024 } } });
  for (const path of ['/v1/status', '/v1/actions']) {
    const method = path === '/v1/status' ? 'GET' : 'POST';
    const declared = await raw(h, method, path, { bytes: 4096, declared: true, token: null });
    t.is(declared.status, 401);
    const chunked = await raw(h, method, path, {
      bytes: 4096,
      declared: false,
      token: 'wrong-token-0123456789',
    });
    t.is(chunked.status, 401);
  }
  t.is(await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_API_UNAUTHORIZED' }), 4);
});

test('413 answers are counted as refused requests', async (t) => {
  const h = await startApi(t, { config: { api: { maxBodyBytes: 1024 } } });
  await raw(h, 'POST', '/v1/events/dlv_1/ack', { bytes: 4096, declared: true });
  await raw(h, 'GET', '/v1/status', { bytes: 4096, declared: false });
  t.is(await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_API_BAD_REQUEST' }), 2);
});

/**
 * Stream a chunked body that never ends to `method path` over a raw socket, waiting for the
 * server to take each chunk; resolves with whether the server cut the connection before
 * `limitBytes` were taken, and the status line it answered.
 */
async function endlessBody(
  h: Harness,
  method: string,
  path: string,
  limitBytes: number,
): Promise<{ cut: boolean; statusLine: string }> {
  const { hostname, port } = new URL(h.base);
  const sock = connect(Number(port), hostname);
  await once(sock, 'connect');
  let answer = '';
  let closed = false;
  sock.on('data', (d: Buffer) => {
    answer += d.toString('latin1');
  });
  sock.on('close', () => {
    closed = true;
  });
  sock.on('error', () => undefined);
  sock.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let taken = 0;
  while (!closed && taken < limitBytes) {
    const ok = sock.write(
      Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]),
    );
    // wait until the server has read it (or the connection ends)
    if (!ok) {
      await new Promise<void>((resolve) => {
        sock.once('drain', resolve);
        sock.once('close', resolve);
      });
    }
    taken += chunk.length;
  }
  sock.destroy();
  return { cut: closed, statusLine: answer.split('\r\n')[0] ?? '' };
}

// without a route there is no cap: node read and dropped the body of a 404 or 405 for as long as
// it came (up to the 300 s request timeout), the keep-alive connection open; a 401 was cut at once
for (const [method, path, status] of [
  ['POST', '/no-such-route', '404 Not Found'],
  ['PUT', '/v1/actions', '405 Method Not Allowed'],
  ['POST', '/v1/actions', '401 Unauthorized'],
] as const) {
  test(`an endless body sent without a token to ${method} ${path} is cut off after the answer`, async (t) => {
    const h = await startApi(t);
    const { cut, statusLine } = await endlessBody(h, method, path, 256 * 1024 * 1024);
    t.is(statusLine, `HTTP/1.1 ${status}`);
    t.true(cut, 'the server read 256 MiB and kept the connection');
  });
}
