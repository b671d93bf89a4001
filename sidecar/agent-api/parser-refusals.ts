/**
 * Requests node's HTTP parser refuses before any route runs: broken chunked framing, conflicting
 * length headers, headers past the size limit, a request that timed out, an `Expect` other than
 * `100-continue`. Node answers them itself with an empty body; these handlers answer them in the
 * API's error shape instead, as node would otherwise (same conditions, same closing of the
 * connection), so an agent's HTTP client sees the same kind of answer for every refusal.
 */
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { apiError, type JsonReply } from './errors.js';
import { writeReply } from './reply.js';

/** The error reply for a parser error of node's (`err.code`: `HPE_*`, `ERR_HTTP_REQUEST_TIMEOUT`). */
export function parserRefusal(code: string | undefined): JsonReply {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return apiError('headers_too_large', 'the request headers exceed the HTTP parser limit (16 KiB)');
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return apiError('request_timeout', 'the request did not arrive completely in time');
  }
  return apiError('malformed_request', 'the request is not well-formed HTTP/1.1 (its framing or a header)');
}

/** `reply` as raw HTTP/1.1 bytes that close the connection (no response object exists yet). */
function rawResponse(reply: JsonReply): string {
  const body = JSON.stringify(reply.body);
  return [
    `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'cache-control: no-store',
    'x-content-type-options: nosniff',
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Answer parser refusals on `server` in the API's error shape; `refused` is told each code. */
export function answerParserRefusals(
  server: Server,
  refused: (apiCode: string, reason?: string) => void,
): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }) => {
    // node's own rule: answer only a connection nothing was written on yet (never inside a reply)
    if (err.code !== 'ECONNRESET' && socket.writable && socket.bytesWritten === 0) {
      const reply = parserRefusal(err.code);
      refused((reply.body as { error: { code: string } }).error.code, err.code);
      socket.write(rawResponse(reply));
    }
    socket.destroy();
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    refused('expectation_failed');
    const reply = apiError('expectation_failed', 'the only Expect the API meets is 100-continue', {
      headers: { connection: 'close' },
    });
    writeReply(req, res, reply);
  });
}
