/**
 * `GET /v1/events`: turn one HTTP response into a Server-Sent Events stream and hand it to pull
 * delivery. The API only opens the stream (headers, no buffering, `Last-Event-ID`); what is
 * written on it, and when, is the delivery's business.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeliveryStream } from './deps.js';

/** Response headers of the stream: no caching, no proxy buffering, no transformation. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-store, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

// ids are ours (`dlv_<ulid>`); anything longer is not one of them
const MAX_LAST_EVENT_ID = 200;

/** The `Last-Event-ID` request header, when present and plausible. */
export function lastEventIdOf(req: IncomingMessage): string | undefined {
  const raw = req.headers['last-event-id'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value && value.length <= MAX_LAST_EVENT_ID ? value : undefined;
}

/** The open streams of a server, so `close()` can end them instead of waiting for clients. */
export type OpenStreams = Set<ServerResponse>;

/**
 * Start the SSE response on `res` and return the stream handed to the delivery. The stream is
 * tracked in `open` until the client goes away or it is ended.
 */
export function openEventStream(
  req: IncomingMessage,
  res: ServerResponse,
  open: OpenStreams,
): DeliveryStream {
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders(); // the client sees the stream open before the first event
  req.socket.setNoDelay(true);
  req.socket.setTimeout(0);
  open.add(res);

  let closed = false;
  const closeCallbacks: (() => void)[] = [];
  res.on('close', () => {
    closed = true;
    open.delete(res);
    for (const cb of closeCallbacks.splice(0)) cb();
  });

  return {
    write: (chunk) => (closed ? false : res.write(chunk)),
    end: () => {
      if (closed) return;
      // bytes the client has not taken yet: a client that stopped reading would hold them (and
      // the socket) for good, as nothing times the stream out; every unacked delivery is sent
      // again on the next stream, so cutting them off loses nothing
      if (res.writableLength > 0) res.destroy();
      else res.end();
    },
    onClose: (cb) => {
      if (closed) queueMicrotask(cb);
      else closeCallbacks.push(cb);
    },
    onDrain: (cb) => {
      res.on('drain', cb);
    },
  };
}
