/**
 * A bare `ws` server on loopback for hostile-connector tests: it answers every hello line with a
 * valid descriptor and otherwise does only what the test tells it, on the raw WebSocket and the
 * TCP socket under it (frames the DevConnector cannot send: invalid UTF-8 text, a close frame
 * without a TCP close).
 */
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { type WebSocket, WebSocketServer } from 'ws';
import { defaultDescriptor } from '../../../sidecar/dev-connector/default-descriptor.js';

/** What a test gets. */
export interface RawConnector {
  /** Base URL for `relay.url`. */
  readonly url: string;
  /** Accepted sockets, in order (index 0 = the first connection). */
  readonly sockets: WebSocket[];
  /** The TCP socket under an accepted WebSocket (same index as {@link sockets}). */
  readonly tcp: Duplex[];
  /** Every WebSocket message the sidecar sent, in order, as it came off the wire. */
  readonly messages: { readonly conn: number; readonly text: string; readonly binary: boolean }[];
}

/**
 * Start the server; `onConnection` runs after the descriptor went out. `autoPong: false` leaves
 * pings to the test. Closed by `t.teardown`.
 */
export async function startRawConnector(
  t: ExecutionContext,
  onConnection: (ws: WebSocket, index: number) => void = () => {},
  options: { autoPong?: boolean } = {},
): Promise<RawConnector> {
  const wss = new WebSocketServer({ noServer: true, autoPong: options.autoPong ?? true });
  const server = createServer();
  const sockets: WebSocket[] = [];
  const tcp: Duplex[] = [];
  const messages: RawConnector['messages'][number][] = [];
  const accepted = (ws: WebSocket) => {
    const index = sockets.push(ws) - 1;
    ws.on('error', () => {});
    ws.on('message', (data, binary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      messages.push({ conn: index, text: bytes.toString('utf8'), binary });
    });
    ws.once('message', () => {
      // the first message holds the first hello: answer it, then hand over to the test
      ws.send(`${JSON.stringify({ type: 'descriptor', descriptor: defaultDescriptor('relay') })}\n`);
      onConnection(ws, index);
    });
  };
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    wss.handleUpgrade(req, socket, head, (ws) => {
      tcp.push(socket);
      accepted(ws);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of tcp) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, sockets, tcp, messages };
}
