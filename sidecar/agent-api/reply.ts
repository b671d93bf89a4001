/**
 * Writing replies: JSON or text, with the headers every answer carries (no caching, no sniffing).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonReply } from './errors.js';
import type { TextReply } from './routes.js';

/** After a reply that leaves the body unread (413, 401), the socket is dropped this much later. */
const DRAIN_GRACE_MS = 250;
const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** The path of a request URL, without query or fragment (queries are never logged). */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const cut = raw.search(/[?#]/);
  return cut < 0 ? raw : raw.slice(0, cut);
}

/** The `error.code` of an error reply body. */
export function errorCodeOf(body: unknown): string | undefined {
  const error = (body as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' ? error.code : undefined;
}

/** Write a JSON or text reply; a `connection: close` reply also drops the unread body. */
export function writeReply(req: IncomingMessage, res: ServerResponse, reply: JsonReply | TextReply): void {
  if (res.headersSent || res.destroyed) return;
  const isText = 'text' in reply;
  const payload = isText ? reply.text : reply.body === undefined ? undefined : JSON.stringify(reply.body);
  const contentType = isText ? reply.contentType : 'application/json; charset=utf-8';
  const headers: Record<string, string | number> = { ...COMMON_HEADERS, ...(reply.headers ?? {}) };
  if (payload !== undefined) {
    headers['content-type'] = contentType;
    headers['content-length'] = Buffer.byteLength(payload);
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
  if (reply.headers?.connection === 'close' && !req.complete) {
    // discard what the client is still sending, then cut it off: bounded in bytes held and time
    req.resume();
    res.once('finish', () => setTimeout(() => req.socket.destroy(), DRAIN_GRACE_MS).unref());
  }
}
