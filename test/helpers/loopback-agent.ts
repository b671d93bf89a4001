/**
 * A real HTTP agent on 127.0.0.1 (port 0) for tests of push delivery: it records every request
 * with its headers, verifies the `X-Relay-Signature`, and answers from a script — per call:
 * status, delay, body (with `actions`), extra headers, refuse (destroy the socket), hang,
 * trickle (send the status line, then one byte at a time and never end), or break off mid-body.
 */

import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ExecutionContext } from 'ava';
import { verifyDelivery } from '../../sidecar/delivery/signature.js';

/** Parsed JSON as tests read it (deep property access without casts). */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, read field by field in assertions
export type Json = Record<string, any>;

/** How the agent answers one request. Default: 200 with `{}`. */
export interface AgentReply {
  readonly status?: number;
  /** Wait this long before answering, ms. */
  readonly delayMs?: number;
  /** JSON body (objects are serialised; strings are sent as they are). */
  readonly body?: unknown;
  /** Shorthand for `body: {actions}`. */
  readonly actions?: readonly unknown[];
  readonly headers?: Readonly<Record<string, string>>;
  /** Destroy the connection without an answer (like a crash mid-request). */
  readonly refuse?: boolean;
  /** Never answer (until the agent closes). */
  readonly hang?: boolean;
  /** Send the status and headers, then one body byte every this many ms, never ending. */
  readonly trickleMs?: number;
  /** Send the status, headers and this start of the body, then reset the connection. */
  readonly breakOff?: string;
}

/** How a trickled answer ended. */
export interface TrickleEnd {
  /** The request's arrival index. */
  readonly index: number;
  /** Body bytes written before the client closed the connection. */
  readonly bytes: number;
  /** From the status line to the close, ms. */
  readonly ms: number;
}

/** One request as the agent saw it. */
export interface RecordedDelivery {
  /** 0-based arrival index. */
  readonly index: number;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** `X-Relay-Delivery-Id`. */
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  /** True when the signature matches the token over `<timestamp>.<raw body>`. */
  readonly signatureValid: boolean;
  /** The raw body. */
  readonly raw: string;
  /** The parsed envelope (undefined when the body is not JSON). */
  readonly envelope: Json | undefined;
  /** When the request was complete, ms since the epoch. */
  readonly receivedAt: number;
}

/** Decides the reply to a request: a function, or a queue of replies consumed in order. */
export type AgentScript = (delivery: RecordedDelivery) => AgentReply | Promise<AgentReply>;

/** Options of {@link LoopbackAgent.start}. */
export interface LoopbackAgentOptions {
  /** The API token the sidecar signs with. */
  readonly token: string;
  /** The reply after the queued replies run out; default 200 `{}`. */
  readonly script?: AgentScript;
}

/** A loopback HTTP agent. */
export class LoopbackAgent {
  /** Every request received, in arrival order (refused ones included). */
  readonly deliveries: RecordedDelivery[] = [];
  /** Trickled answers the client cut off, in the order they ended. */
  readonly trickles: TrickleEnd[] = [];
  private readonly queued: AgentReply[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly events = new EventEmitter();
  private readonly hanging = new Set<ServerResponse>();
  private script: AgentScript;

  private constructor(
    private readonly server: http.Server,
    private readonly token: string,
    script: AgentScript | undefined,
    /** The URL to give the sidecar as `agent.url`. */
    readonly url: string,
  ) {
    this.script = script ?? (() => ({}));
    this.events.setMaxListeners(0);
  }

  /** Listen on 127.0.0.1:0. */
  static async start(opts: LoopbackAgentOptions): Promise<LoopbackAgent> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new LoopbackAgent(server, opts.token, opts.script, `http://127.0.0.1:${port}/hook`);
    server.on('connection', (socket) => {
      agent.sockets.add(socket);
      socket.on('close', () => agent.sockets.delete(socket));
    });
    server.on('request', (req, res) => void agent.handle(req, res));
    return agent;
  }

  /** Answer the next requests with these replies, in order, before falling back to the script. */
  reply(...replies: AgentReply[]): this {
    this.queued.push(...replies);
    return this;
  }

  /** Replace the fallback script. */
  setScript(script: AgentScript): this {
    this.script = script;
    return this;
  }

  /** Envelopes received with a valid signature and a parseable body. */
  envelopes(): Json[] {
    return this.deliveries.filter((d) => d.envelope).map((d) => d.envelope as Json);
  }

  /** Resolve once `predicate` holds over the deliveries; reject after `timeoutMs`. */
  waitUntil(predicate: (all: readonly RecordedDelivery[]) => boolean, timeoutMs = 5_000): Promise<void> {
    if (predicate(this.deliveries)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this.deliveries)) return;
        clearTimeout(timer);
        this.events.off('delivery', check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.events.off('delivery', check);
        reject(
          new Error(
            `loopback agent: condition not met within ${timeoutMs} ms (${this.deliveries.length} requests)`,
          ),
        );
      }, timeoutMs);
      this.events.on('delivery', check);
    });
  }

  /** Resolve once at least `n` requests arrived. */
  waitFor(n: number, timeoutMs = 5_000): Promise<void> {
    return this.waitUntil((all) => all.length >= n, timeoutMs);
  }

  /** Stop listening, end hanging answers and destroy every connection. */
  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const one = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const timestamp = one('x-relay-timestamp');
    const signature = one('x-relay-signature');
    let envelope: Json | undefined;
    try {
      envelope = JSON.parse(raw) as Json;
    } catch {
      envelope = undefined;
    }
    const delivery: RecordedDelivery = {
      index: this.deliveries.length,
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      id: one('x-relay-delivery-id'),
      timestamp,
      signature,
      signatureValid:
        timestamp !== undefined &&
        signature !== undefined &&
        verifyDelivery(this.token, timestamp, raw, signature),
      raw,
      envelope,
      receivedAt: Date.now(),
    };
    this.deliveries.push(delivery);
    // waiters see the request as soon as it is recorded, before the script decides the answer
    this.events.emit('delivery');
    const reply = this.queued.shift() ?? (await this.script(delivery));
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (reply.refuse) {
      req.socket.destroy();
      return;
    }
    if (reply.hang) {
      this.hanging.add(res);
      return;
    }
    if (reply.breakOff !== undefined) {
      // a length the body never reaches: the client cannot take the cut for the end
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'content-length': '65536' });
      res.write(reply.breakOff, () => res.destroy());
      return;
    }
    if (reply.trickleMs) {
      this.trickle(delivery.index, res, reply);
      return;
    }
    const body =
      reply.body !== undefined
        ? typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body)
        : JSON.stringify(reply.actions ? { actions: reply.actions } : {});
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.end(body);
  }

  /** Status and headers now, then a byte every `trickleMs` until the client goes away. */
  private trickle(index: number, res: ServerResponse, reply: AgentReply): void {
    this.hanging.add(res);
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.flushHeaders();
    const started = Date.now();
    let bytes = 0;
    const timer = setInterval(() => {
      res.write(bytes === 0 ? '{' : ' ');
      bytes += 1;
    }, reply.trickleMs);
    res.once('close', () => {
      clearInterval(timer);
      this.hanging.delete(res);
      this.trickles.push({ index, bytes, ms: Date.now() - started });
    });
  }
}

/** Start a {@link LoopbackAgent} closed with the test. */
export async function startAgent(t: ExecutionContext, opts: LoopbackAgentOptions): Promise<LoopbackAgent> {
  const agent = await LoopbackAgent.start(opts);
  t.teardown(() => agent.close());
  return agent;
}
