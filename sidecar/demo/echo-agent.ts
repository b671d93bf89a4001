/**
 * The demo's agent: a tiny push-mode HTTP agent on loopback that answers each delivery with
 * actions in its response body (serverless style), exactly as a real agent could.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyDelivery } from '../delivery/signature.js';

/** One delivery as the agent saw it, with the actions it answered. */
export interface AgentTurn {
  readonly envelope: Envelope;
  readonly signatureValid: boolean;
  readonly actions: readonly Record<string, unknown>[];
}

/** The subset of the delivery envelope the demo agent reads. */
export interface Envelope {
  readonly id: string;
  readonly type: 'message' | 'interrupt';
  readonly session_key: string;
  readonly capabilities?: readonly string[];
  readonly event?: {
    readonly text?: string;
    readonly message_id?: string | null;
    readonly prompt_response?: { readonly prompt_id: string; readonly option_id: string } | null;
    readonly source: {
      readonly platform: string;
      readonly chat_id: string;
      readonly message_id?: string | null;
    };
  };
  readonly interrupt?: { readonly chat_id?: string | null };
}

/** Decide the reply actions for one delivery: pure, so it is tested alone. */
export function replyTo(env: Envelope): Record<string, unknown>[] {
  const event = env.event;
  if (env.type !== 'message' || !event) return [];
  const chat = event.source.chat_id;
  const text = event.text ?? '';
  if (event.prompt_response) {
    return [
      { op: 'send', chat_id: chat, content: `You chose "${event.prompt_response.option_id}". Deploying.` },
    ];
  }
  if (env.capabilities?.includes('discord.interaction_token')) {
    return [{ op: 'follow_up', session_key: env.session_key, content: `Done: ${text}` }];
  }
  if (text.trim().endsWith('?') && text.toLowerCase().includes('deploy')) {
    return [
      {
        op: 'prompt',
        chat_id: chat,
        content: 'Deploy build 42 to production?',
        prompt_kind: 'approval',
        prompt_id: 'deploy42',
        options: [
          { id: 'approve', label: 'Approve', style: 'success' },
          { id: 'deny', label: 'Deny', style: 'danger' },
        ],
      },
    ];
  }
  return [{ op: 'send', chat_id: chat, content: `echo: ${text}`, reply_to: event.message_id ?? null }];
}

/** A running echo agent. */
export class EchoAgent {
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  /** Start on 127.0.0.1:0; `token` verifies `X-Relay-Signature`; `onTurn` sees every delivery. */
  static async start(token: () => string, onTurn: (turn: AgentTurn) => void): Promise<EchoAgent> {
    const server = http.createServer((req, res) => void handle(req, res, token(), onTurn));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    return new EchoAgent(server, `http://127.0.0.1:${port}/relay`);
  }

  /** Stop listening and drop keep-alive connections. */
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
  onTurn: (turn: AgentTurn) => void,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  const timestamp = String(req.headers['x-relay-timestamp'] ?? '');
  const signature = String(req.headers['x-relay-signature'] ?? '');
  const signatureValid = verifyDelivery(token, timestamp, raw, signature);
  if (!signatureValid) {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
    return;
  }
  const envelope = JSON.parse(raw) as Envelope;
  const actions = replyTo(envelope);
  onTurn({ envelope, signatureValid, actions });
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ actions }));
}
