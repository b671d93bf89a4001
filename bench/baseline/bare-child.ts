/**
 * The bare baselines, in their own process (where the sidecar would be):
 * - the **reader**: a ws client that only reads and `JSON.parse`s the connector's stream (and
 *   reads the marker in the text) — the inbound limit of this machine;
 * - the **bare HTTP** API: parses an action and answers a canned result (the loopback HTTP floor);
 * - the **bare relay** API: parses an action, sends an `outbound` frame to the connector and
 *   answers with its `outbound_result` — the least any relay gateway must do.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Tally } from '../agent/tally.js';
import { emitEvent, serveRpc } from '../lib/rpc.js';
import { percentiles } from '../lib/stats.js';
import { type BarePeer, dialBarePeer } from './bare-peer.js';

interface PeerArgs {
  connectorUrl: string;
  gatewayId: string;
  secret: string;
  token: string;
}

let reader: BarePeer | undefined;
let tally: Tally | undefined;
let relay: BarePeer | undefined;
const servers: Server[] = [];
const waiting = new Map<string, ServerResponse>();
let api: Promise<{ httpPort: number; relayPort: number }> | undefined;

function onReaderLine(line: string): void {
  const frame = JSON.parse(line) as { event?: { text?: unknown } };
  tally?.mark(frame.event?.text);
}

function onRelayLine(line: string): void {
  const frame = JSON.parse(line) as { type?: string; requestId?: string; result?: unknown };
  if (frame.type !== 'outbound_result' || !frame.requestId) return;
  const res = waiting.get(frame.requestId);
  if (!res) return;
  waiting.delete(frame.requestId);
  reply(res, 200, JSON.stringify({ result: frame.result ?? {} }));
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Check the bearer and read a JSON action, as any API must; errors are answered here. */
function readAction(
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
  use: (a: unknown) => void,
): void {
  if (req.headers.authorization !== `Bearer ${token}`) {
    reply(res, 401, '{"error":{"code":"unauthorized"}}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let action: { op?: unknown };
    try {
      action = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(res, 400, '{"error":{"code":"invalid_json"}}');
    }
    if (typeof action?.op !== 'string') return reply(res, 400, '{"error":{"code":"invalid_action"}}');
    use(action);
  });
}

function listen(server: Server): Promise<number> {
  servers.push(server);
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** Start the two bare APIs (once: later calls get the same ports). */
async function startApi(args: PeerArgs): Promise<{ httpPort: number; relayPort: number }> {
  let n = 0;
  const bareHttp = createServer((req, res) =>
    readAction(req, res, args.token, () =>
      reply(res, 200, `{"result":{"success":true,"message_id":"m-${++n}"}}`),
    ),
  );
  relay = await dialBarePeer(args.connectorUrl, args.gatewayId, args.secret, onRelayLine);
  const peer = relay;
  const bareRelay = createServer((req, res) =>
    readAction(req, res, args.token, (action) => {
      const requestId = randomUUID().replaceAll('-', '');
      waiting.set(requestId, res);
      peer.send({ type: 'outbound', requestId, action });
    }),
  );
  return { httpPort: await listen(bareHttp), relayPort: await listen(bareRelay) };
}

serveRpc({
  async connectReader(args: PeerArgs) {
    reader = await dialBarePeer(args.connectorUrl, args.gatewayId, args.secret, onReaderLine);
  },
  async disconnectReader() {
    await reader?.close();
    reader = undefined;
  },
  /** Count run `tag` from now on (answered once armed, so no frame can arrive before). */
  arm(args: { tag: number; n: number; latency: boolean }) {
    tally = new Tally(args.tag, args.n, args.latency);
  },
  /** Wait until every event of the armed run arrived (or `timeoutMs`); reports counts meanwhile. */
  async finish(args: { tag: number; latency: boolean; timeoutMs: number }) {
    const t = tally;
    if (!t || t.tag !== args.tag) throw new Error(`run ${args.tag} is not armed`);
    const timer = setInterval(() => emitEvent('count', { tag: args.tag, received: t.distinct }), 5);
    try {
      const r = await t.done(args.timeoutMs);
      const { latenciesMs, ...rest } = r;
      return { ...rest, latency: args.latency ? percentiles(latenciesMs) : undefined };
    } finally {
      clearInterval(timer);
    }
  },
  startApi(args: PeerArgs) {
    api ??= startApi(args);
    return api;
  },
  rss() {
    return process.memoryUsage().rss / 1024 / 1024;
  },
  async close() {
    await reader?.close();
    await relay?.close();
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  },
});
