/**
 * Real loopback HTTP servers for the side-route tests: a scripted server that records every
 * request (headers and body), and the dev connector's in-memory side routes on a plain server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ExecutionContext } from 'ava';
import {
  createSideRoutes,
  type SideRoutes,
  type SideRoutesOptions,
} from '../../../sidecar/dev-connector/side-routes.js';

/** A request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A listening loopback server. */
export interface Loopback {
  /** `http://127.0.0.1:<port>` */
  base: string;
  port: number;
  seen: SeenRequest[];
  server: Server;
}

/** Scripted answer: status, JSON body (or raw string), extra headers; `'hang'` never answers. */
export type Script = (
  req: SeenRequest,
) => { status: number; body?: unknown; headers?: Record<string, string> } | 'hang';

/** Start a scripted server on 127.0.0.1:0, closed at teardown. */
export async function scripted(t: ExecutionContext, script: Script): Promise<Loopback> {
  const seen: SeenRequest[] = [];
  return listen(t, seen, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(r);
      const answer = script(r);
      if (answer === 'hang') return;
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(text);
    });
  });
}

/** The dev connector's side routes on a plain server (404 for anything else). */
export async function connector(
  t: ExecutionContext,
  options: SideRoutesOptions = {},
): Promise<Loopback & { routes: SideRoutes }> {
  const routes = createSideRoutes(options);
  const lb = await listen(t, [], (req, res) => {
    if (routes.handler(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  return { ...lb, routes };
}

async function listen(
  t: ExecutionContext,
  seen: SeenRequest[],
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Loopback> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { base: `http://127.0.0.1:${port}`, port, seen, server };
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
