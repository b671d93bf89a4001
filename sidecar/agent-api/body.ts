/**
 * Reading request bodies with a hard size cap, for every route (the server reads the body before
 * any handler runs). The cap is enforced before buffering: a declared `Content-Length` over the
 * cap is refused without reading, and a chunked body stops being read the moment it crosses the
 * cap. A route that ignores its body still has it read (and dropped) under the same cap. Any
 * content type is accepted if the bytes parse.
 */
import type { IncomingMessage } from 'node:http';
import { parseErrorReason } from '../../core/protocol/decode.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../core/protocol/json-depth.js';
import { apiError, type JsonReply } from './errors.js';

/** The bytes of a body read under the cap (empty when dropped), or the error reply to send. */
export type BytesResult =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly reply: JsonReply };

/** The outcome of reading a body: the parsed value, or the error reply to send. */
export type BodyResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reply: JsonReply };

/** Header that makes the server drop the connection after a 413 (the rest of the body is unread). */
export const CLOSE_AFTER_REPLY = { connection: 'close' } as const;

const EMPTY = Buffer.alloc(0);

const tooLarge = (maxBytes: number): { readonly ok: false; readonly reply: JsonReply } => ({
  ok: false,
  reply: apiError('body_too_large', `request body exceeds ${maxBytes} bytes`, { headers: CLOSE_AFTER_REPLY }),
});

/**
 * Parse body bytes as JSON (UTF-8, optional BOM); a result value, never a throw. A body nested
 * deeper than MAX_JSON_DEPTH is refused before parsing (see json-depth.ts for why).
 */
export function parseJsonBytes(bytes: Buffer): BodyResult {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') {
    return { ok: false, reply: apiError('invalid_json', 'request body is empty; expected a JSON object') };
  }
  if (exceedsJsonDepth(text)) {
    return {
      ok: false,
      reply: apiError(
        'json_too_deep',
        `request body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; flatten it`,
      ),
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    // the parser's message, without the snippet of the body V8 quotes in it (the position stays)
    return {
      ok: false,
      reply: apiError('invalid_json', `request body is not valid JSON: ${parseErrorReason(err)}`),
    };
  }
}

/**
 * True when `req` announces a body: a `Content-Length` above 0 or a `Transfer-Encoding`. Without
 * either an HTTP/1.1 request has no body (RFC 9112, 6.3), so there is nothing to read.
 */
export function announcesBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) !== 0;
}

/** Read and parse the body of `req`, at most `maxBytes` bytes. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const read = await readBody(req, maxBytes);
  return read.ok ? parseJsonBytes(read.bytes) : read;
}

/**
 * Read the body of `req`, at most `maxBytes` bytes; `keep: false` reads it to its end and drops
 * each chunk (a route that has no use for a body must still not take more than the cap).
 */
export function readBody(req: IncomingMessage, maxBytes: number, keep = true): Promise<BytesResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(tooLarge(maxBytes));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BytesResult) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0; // stop holding what was read: the answer is 413 regardless
        settle(tooLarge(maxBytes));
        return;
      }
      if (keep) chunks.push(chunk);
    };
    const onEnd = () => settle({ ok: true, bytes: keep ? Buffer.concat(chunks, size) : EMPTY });
    // the client went away mid-body: whatever we answer is not read; keep it well-formed anyway
    const onError = () => settle({ ok: false, reply: apiError('invalid_json', 'request body was cut off') });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onError); // 'close' before 'end' means the body never completed
  });
}
