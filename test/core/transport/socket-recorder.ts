/**
 * A socket factory that wraps the real one and records each dial's options and how many sockets
 * are alive at once, to prove "exactly one dialer" and inspect upgrade headers.
 */
import type { ClientOptions } from 'ws';
import { defaultSocketFactory, type SocketFactory } from '../../../core/transport/relay-client.js';

/** What the recorder saw. */
export interface SocketRecorder {
  readonly factory: SocketFactory;
  readonly dials: { url: string; options: ClientOptions }[];
  /** Sockets created and not yet closed. */
  alive(): number;
  /** The most sockets ever alive at once. */
  maxAlive(): number;
  /** The bearer tokens sent, in dial order. */
  tokens(): string[];
}

/** Create a recording factory over real `ws` sockets. */
export function recordSockets(): SocketRecorder {
  const dials: { url: string; options: ClientOptions }[] = [];
  let alive = 0;
  let maxAlive = 0;
  const factory: SocketFactory = (url, options) => {
    const ws = defaultSocketFactory(url, options);
    dials.push({ url, options });
    alive += 1;
    maxAlive = Math.max(maxAlive, alive);
    ws.once('close', () => {
      alive -= 1;
    });
    return ws;
  };
  return {
    factory,
    dials,
    alive: () => alive,
    maxAlive: () => maxAlive,
    tokens: () =>
      dials
        .map((d) => (d.options.headers as Record<string, string> | undefined)?.Authorization ?? '')
        .map((h) => h.replace(/^Bearer /, '')),
  };
}
