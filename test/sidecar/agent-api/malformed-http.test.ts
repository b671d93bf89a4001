/**
 * Requests node's HTTP parser refuses before any route runs (found by fuzzing the API with raw
 * requests): broken chunked framing, conflicting length headers, headers past the size limit, an
 * `Expect` other than 100-continue. Node answered them itself, with an empty body; the API answers
 * them in its error shape like every other refusal (agent-api.md: errors are
 * `{"error":{"code","message"}}`), then closes the connection.
 */
import { connect } from 'node:net';
import test from 'ava';
import { parserRefusal } from '../../../sidecar/agent-api/parser-refusals.js';
import { type Harness, startApi } from './api-harness.js';

/** Send `request` on a fresh connection; the status and body of the answer once it closes. */
function rawRequest(h: Harness, request: string): Promise<{ status: number; body: string; head: string }> {
  const { port } = new URL(h.base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const cut = text.indexOf('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0),
        head: text.slice(0, cut),
        body: text.slice(cut + 4),
      });
    });
    socket.write(request);
  });
}

const head = (h: Harness, lines: string[]) =>
  [`POST /v1/actions HTTP/1.1`, 'host: 127.0.0.1', `authorization: Bearer ${h.token}`, ...lines].join('\r\n');

for (const [name, request, status, code] of [
  [
    'a chunk size that is not hex',
    (h: Harness) => `${head(h, ['transfer-encoding: chunked'])}\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    400,
    'malformed_request',
  ],
  [
    'Content-Length and Transfer-Encoding together',
    (h: Harness) =>
      `${head(h, ['content-length: 2', 'transfer-encoding: chunked'])}\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    400,
    'malformed_request',
  ],
  [
    'headers past the size limit',
    (h: Harness) => `${head(h, [`x-filler: ${'f'.repeat(20_000)}`])}\r\n\r\n`,
    431,
    'headers_too_large',
  ],
  [
    'an Expect other than 100-continue',
    (h: Harness) => `${head(h, ['expect: teapot', 'content-length: 2'])}\r\n\r\n{}`,
    417,
    'expectation_failed',
  ],
] as const) {
  test(`${name} ⇒ ${status} ${code} in the error shape`, async (t) => {
    const h = await startApi(t);
    const answer = await rawRequest(h, request(h));
    t.is(answer.status, status);
    t.regex(answer.head, /content-type: application\/json/i);
    const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
    t.is(body.error.code, code);
    t.is(typeof body.error.message, 'string');
    // the server is still up for the next caller
    t.is((await h.call('/v1/status')).status, 200);
  });
}

test("node's request timeout maps to 408 request_timeout, any other parser error to 400 malformed_request", (t) => {
  // the timeouts are node's (headersTimeout 60 s, requestTimeout 300 s): mapped, not waited for
  t.like(parserRefusal('ERR_HTTP_REQUEST_TIMEOUT'), {
    status: 408,
    body: { error: { code: 'request_timeout' } },
  });
  t.like(parserRefusal('HPE_INVALID_METHOD'), {
    status: 400,
    body: { error: { code: 'malformed_request' } },
  });
  t.like(parserRefusal(undefined), { status: 400, body: { error: { code: 'malformed_request' } } });
});
