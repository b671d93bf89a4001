/**
 * The least a gateway-side peer can do on the relay socket: dial with an upgrade token, say
 * hello, wait for the descriptor, then hand every complete NDJSON line to `onLine`. The baselines
 * are built on it, so they pay the same socket and framing costs as the sidecar and nothing else.
 */
import { StringDecoder } from 'node:string_decoder';
import WebSocket from 'ws';
import { upgradeToken } from '../../core/transport/auth-token.js';

/** A connected bare peer. */
export interface BarePeer {
  /** Send one frame (JSON + `\n`, one text message). */
  send(frame: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** Dial `connectorUrl` (http://host:port) as `gatewayId`; resolves after the first descriptor. */
export function dialBarePeer(
  connectorUrl: string,
  gatewayId: string,
  secret: string,
  onLine: (line: string) => void,
  timeoutMs = 10_000,
): Promise<BarePeer> {
  const url = `${connectorUrl.replace(/^http/, 'ws')}/relay`;
  const ws = new WebSocket(url, {
    headers: { authorization: `Bearer ${upgradeToken(gatewayId, secret, Date.now())}` },
    maxPayload: 16 * 1024 * 1024,
  });
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let handshaken = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('bare peer: no descriptor in time'));
    }, timeoutMs);
    const peer: BarePeer = {
      send: (frame) => ws.send(`${JSON.stringify(frame)}\n`),
      close: () =>
        new Promise((done) => {
          if (ws.readyState === WebSocket.CLOSED) return done();
          ws.once('close', () => done());
          ws.close(1000);
          setTimeout(() => ws.terminate(), 1_000).unref();
        }),
    };
    ws.on('open', () => ws.send(`${JSON.stringify({ type: 'hello', platform: 'discord', botId: '' })}\n`));
    ws.on('error', (err) => {
      clearTimeout(timer);
      if (!handshaken) reject(err);
    });
    ws.on('message', (data: Buffer) => {
      const lines = (partial + decoder.write(data)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') continue;
        if (!handshaken) {
          if (!line.includes('"descriptor"')) continue;
          handshaken = true;
          clearTimeout(timer);
          resolve(peer);
          continue;
        }
        onLine(line);
      }
    });
  });
}
