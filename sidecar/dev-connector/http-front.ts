/**
 * The dev connector's HTTP face on 127.0.0.1: side routes and 404s for plain requests, and the
 * gate in front of the WebSocket upgrade (400 off the relay path, 4401 for a bad token).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ResolvedOptions, UpgradeRecord } from './options.js';
import { authorizeUpgrade, isRelayPath, pathOf } from './upgrade-auth.js';

/** What the front asks of, and reports to, its owner. */
export interface FrontHooks {
  /** The current secret rotation list. */
  secrets(): readonly string[];
  /** True once the connector is closing: new upgrades get 503. */
  closing(): boolean;
  /** Every upgrade attempt, accepted or not. */
  upgraded(rec: UpgradeRecord): void;
  /** An authorized socket, ready to use. */
  accepted(ws: WebSocket): void;
}

/** The listening HTTP server and its WebSocket server. */
export interface Front {
  server: Server;
  wss: WebSocketServer;
  port: number;
}

/** Listen on 127.0.0.1 and wire the request and upgrade handlers. */
export async function listenFront(opts: ResolvedOptions, hooks: FrontHooks): Promise<Front> {
  const wss = new WebSocketServer({ noServer: true, autoPong: opts.autoPong, maxPayload: opts.maxPayload });
  const server = createServer((req, res) => serveRequest(req, res, opts.sideRoutes));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const path = pathOf(req.url);
    if (hooks.closing()) return refuse(socket, hooks, path, 503, 'closing');
    if (!isRelayPath(path)) return refuse(socket, hooks, path, 400, 'not a relay path');
    const auth = authorizeUpgrade(req.headers.authorization, hooks.secrets(), opts.nowS());
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!auth.authorized) {
        // The contract rejects a bad token after the upgrade, with close code 4401 + reason.
        hooks.upgraded({ path, authorized: false, status: 101, reason: auth.reason });
        ws.on('error', () => {});
        ws.close(4401, auth.reason);
        return;
      }
      const rec: UpgradeRecord = { path, authorized: true, status: 101 };
      if (auth.gatewayId !== undefined) rec.gatewayId = auth.gatewayId;
      hooks.upgraded(rec);
      hooks.accepted(ws);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return { server, wss, port };
}

/**
 * Stop the front: wait up to `graceMs` for sockets already told to close to finish their closing
 * handshake, terminate the stragglers, then close both servers (and idle keep-alive sockets).
 */
export async function closeFront(front: Front, graceMs: number): Promise<void> {
  const { server, wss } = front;
  const deadline = Date.now() + graceMs;
  while ([...wss.clients].some((ws) => ws.readyState !== ws.CLOSED) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/** Plain HTTP: side routes first, then a JSON 404; a throwing side route becomes a JSON 500. */
function serveRequest(
  req: IncomingMessage,
  res: ServerResponse,
  sideRoutes: ResolvedOptions['sideRoutes'],
): void {
  try {
    if (sideRoutes?.(req, res)) return;
    json(res, 404, { error: 'not found', path: pathOf(req.url) });
  } catch (err) {
    if (!res.headersSent) json(res, 500, { error: `side route failed: ${String(err)}` });
    else res.destroy();
  }
}

function json(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answer an upgrade with a plain HTTP error and close the socket. */
function refuse(socket: Duplex, hooks: FrontHooks, path: string, status: 400 | 503, reason: string): void {
  hooks.upgraded({ path, authorized: false, status, reason });
  const body = JSON.stringify({ error: reason });
  const statusText = status === 400 ? 'Bad Request' : 'Service Unavailable';
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
