/**
 * A plain `ws` client playing the sidecar against the dev connector in tests: dials, sends
 * NDJSON frames, and collects what comes back (split on `\n` like the real client does).
 */
import type { ExecutionContext } from 'ava';
import { WebSocket } from 'ws';

/** What the peer received: parsed frames, or `{__malformed: line}` for a line that is not JSON. */
export type Received = Record<string, unknown>;

/** A connected test client. */
export interface Peer {
  ws: WebSocket;
  /** Complete lines received, parsed, in order. */
  received: Received[];
  /** Each raw message as received. */
  messages: { text: string; binary: boolean }[];
  /** Send one frame as JSON + `\n` (or a raw string as is). */
  send(frame: Record<string, unknown> | string): void;
  /** The first already-received or future frame matching `pred`. */
  next(pred: (f: Received) => boolean, timeoutMs?: number): Promise<Received>;
  /** Settles with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Dial `url + path` and resolve once open; the socket is terminated at test teardown. */
export function openPeer(
  t: ExecutionContext,
  url: string,
  opts: { path?: string; token?: string } = {},
): Promise<Peer> {
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${opts.path ?? '/relay'}`, { headers });
  t.teardown(() => ws.terminate());
  const received: Received[] = [];
  const messages: Peer['messages'] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  ws.on('message', (data, binary) => {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
    messages.push({ text, binary });
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim() !== '')) {
      try {
        received.push(JSON.parse(line) as Received);
      } catch {
        received.push({ __malformed: line });
      }
    }
    for (const w of waiters) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
  });
  const peer: Peer = {
    ws,
    received,
    messages,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : `${JSON.stringify(frame)}\n`),
    next: (pred, timeoutMs = 3000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = received.find(pred);
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`peer: no matching frame within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(peer));
    // A permanent listener: a late socket error must never become an unhandled 'error' event.
    ws.on('error', reject);
    ws.once('unexpected-response', (req, res) => {
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
      req.destroy();
    });
  });
}

/** Open, send a hello for `platform`, and await its descriptor. */
export async function handshake(t: ExecutionContext, url: string, platform = 'discord'): Promise<Peer> {
  const peer = await openPeer(t, url);
  peer.send({ type: 'hello', platform, botId: 'bot-1' });
  await peer.next((f) => f.type === 'descriptor');
  return peer;
}

/** Frames of `type` received so far. */
export function ofType(peer: Peer, type: string): Received[] {
  return peer.received.filter((f) => f.type === type);
}

/**
 * A barrier: send going_idle and await its ack. Everything the connector wrote before the ack is
 * then in `received` (one socket preserves order), so "nothing else arrived" can be asserted.
 */
export async function barrier(peer: Peer): Promise<void> {
  const before = ofType(peer, 'going_idle_ack').length;
  peer.send({ type: 'going_idle' });
  await peer.next(() => ofType(peer, 'going_idle_ack').length > before);
}
