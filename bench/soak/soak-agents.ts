/**
 * The agent side of the chaos soak. Push: the loopback HTTP agent behind a TCP gate (down = the
 * agent process is gone), answering 2xx, 5xx, 429, 4xx (the events marked for rejection), slow,
 * hanging or resetting, as the soak's random source decides. Pull: an SSE consumer of
 * `GET /v1/events` that acks after a random delay, sometimes not at all, and drops its stream.
 * Both keep a ledger of what reached the agent: every delivery id seen per event marker, and
 * when the agent accepted it (2xx answered / ack 204).
 */
import http from 'node:http';
import { AgentGate } from '../../test/e2e/agent-tools.js';
import { type AgentReply, type Json, LoopbackAgent } from '../../test/helpers/loopback-agent.js';

/** The marker every soak event carries in its text (`soak-<seq>`). */
export const MARKER = /soak-(\d+)\b/;

/** What the agent saw of one delivery. */
export interface Seen {
  readonly id: string;
  readonly seq: number | undefined;
  readonly session: string | undefined;
  readonly type: string | undefined;
  readonly chatId: string | undefined;
  readonly platform: string | undefined;
  /** The follow_up kinds usable for the session (the envelope's `capabilities`). */
  readonly capabilities: readonly string[];
}

/** The ledger both agents keep. */
export class AgentLedger {
  /** Every delivery received (requests, SSE events), in order. */
  readonly received: Seen[] = [];
  /** delivery id ⇒ index in `accepted` order; set when the agent accepted it the first time. */
  readonly acceptedIds = new Map<string, number>();
  /** Accepted deliveries in acceptance order. */
  readonly accepted: Seen[] = [];
  /** The soak seqs of everything received. */
  readonly seenSeqs = new Set<number>();
  /** Deliveries re-sent after the agent had accepted them (at-least-once; counted, not a fault by itself). */
  resentAfterAccept = 0;

  see(envelope: Json | undefined, id: string | undefined): Seen {
    const body = envelope?.event ?? envelope?.interrupt;
    const text = body === undefined ? '' : JSON.stringify(body);
    const m = MARKER.exec(text);
    const seen: Seen = {
      id: id ?? String(envelope?.id ?? ''),
      seq: m ? Number(m[1]) : undefined,
      session: typeof envelope?.session_key === 'string' ? envelope.session_key : undefined,
      type: typeof envelope?.type === 'string' ? envelope.type : undefined,
      chatId: envelope?.event?.source?.chat_id,
      platform: envelope?.event?.source?.platform,
      capabilities: Array.isArray(envelope?.capabilities) ? (envelope.capabilities as string[]) : [],
    };
    if (this.acceptedIds.has(seen.id)) this.resentAfterAccept += 1;
    this.received.push(seen);
    if (seen.seq !== undefined) this.seenSeqs.add(seen.seq);
    return seen;
  }

  accept(seen: Seen): boolean {
    if (this.acceptedIds.has(seen.id)) return false;
    this.acceptedIds.set(seen.id, this.accepted.length);
    this.accepted.push(seen);
    return true;
  }
}

/** Fault mix of the push agent (probabilities per request; the rest answer 200). */
export interface PushFaults {
  readonly p5xx: number;
  readonly p429: number;
  readonly pHang: number;
  readonly pSlow: number;
  readonly pRefuse: number;
}

/** The push agent: loopback agent + gate + ledger. */
export class PushAgent {
  readonly ledger = new AgentLedger();
  /** Events marked for rejection that the agent now accepts (their dead letters were replayed). */
  readonly forgiven = new Set<number>();
  faults: PushFaults | undefined;

  private constructor(
    readonly agent: LoopbackAgent,
    readonly gate: AgentGate,
  ) {}

  static async start(
    token: string,
    rand: () => number,
    slowMaxMs: number,
    /** Actions for the first 2xx answer of a delivery (empty ⇒ none). */
    actionsFor: (seen: Seen) => unknown[],
  ): Promise<PushAgent> {
    const agent = await LoopbackAgent.start({ token });
    const gate = await AgentGate.start(agent, true);
    const push = new PushAgent(agent, gate);
    agent.setScript((d): AgentReply => {
      const seen = push.ledger.see(d.envelope, d.id);
      if (!d.signatureValid) return { status: 401 };
      const reject = String(d.envelope?.event?.text ?? '').includes('#reject');
      if (reject && !(seen.seq !== undefined && push.forgiven.has(seen.seq))) {
        return { status: 400, body: { error: 'rejected by the soak agent' } };
      }
      const f = push.faults;
      if (f) {
        const r = rand();
        const edges = [
          f.p5xx,
          f.p5xx + f.p429,
          f.p5xx + f.p429 + f.pHang,
          f.p5xx + f.p429 + f.pHang + f.pRefuse,
        ];
        const slowEdge = (edges[3] ?? 0) + f.pSlow;
        if (r < (edges[0] ?? 0)) return { status: rand() < 0.5 ? 500 : 503 };
        if (r < (edges[1] ?? 0)) return { status: 429, headers: { 'retry-after': '0' } };
        if (r < (edges[2] ?? 0)) return { hang: true };
        if (r < (edges[3] ?? 0)) return { refuse: true };
        if (r < slowEdge) return { delayMs: Math.floor(rand() * slowMaxMs), ...push.ok(seen, actionsFor) };
      }
      return push.ok(seen, actionsFor);
    });
    return push;
  }

  get url(): string {
    return this.gate.url;
  }

  async close(): Promise<void> {
    await this.gate.down();
    await this.agent.close();
  }

  private ok(seen: Seen, actionsFor: (seen: Seen) => unknown[]): AgentReply {
    const first = this.ledger.accept(seen);
    const actions = first ? actionsFor(seen) : [];
    return actions.length > 0 ? { status: 200, actions } : { status: 200 };
  }
}

/** The pull agent: one SSE stream at a time against the current sidecar. */
export class PullAgent {
  readonly ledger = new AgentLedger();
  /** Set by the soak: ack delays and the odd unacked delivery. */
  chaos = false;
  private req: http.ClientRequest | undefined;
  private stopped = false;
  private paused = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly token: string,
    private readonly rand: () => number,
    /** The current sidecar's API base, or undefined while none runs. */
    private readonly base: () => string | undefined,
    /** Called after an accepted ack (the agent acts on the event). */
    private readonly onAccepted: (seen: Seen, base: string) => void,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Drop the stream (it reconnects unless paused). */
  dropStream(): void {
    this.req?.destroy();
  }

  /** The agent process is gone for `ms`. */
  async restart(ms: number): Promise<void> {
    this.paused = true;
    this.req?.destroy();
    await new Promise((r) => setTimeout(r, ms));
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.req?.destroy();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const base = this.base();
      if (!base || this.paused) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      await this.stream(base).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private stream(base: string): Promise<void> {
    return new Promise((resolve) => {
      const req = http.get(
        `${base}/v1/events`,
        { headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' }, agent: false },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            res.on('end', () => resolve());
            return;
          }
          res.setEncoding('utf8');
          let buffer = '';
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let end = buffer.indexOf('\n\n');
            while (end >= 0) {
              this.onBlock(base, buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
              end = buffer.indexOf('\n\n');
            }
          });
          res.on('close', () => resolve());
          res.on('error', () => resolve());
        },
      );
      req.on('error', () => resolve());
      this.req = req;
    });
  }

  private onBlock(base: string, block: string): void {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0 || id === undefined) return;
    let envelope: Json | undefined;
    try {
      envelope = JSON.parse(data.join('\n')) as Json;
    } catch {
      envelope = undefined;
    }
    const seen = this.ledger.see(envelope, id);
    if (this.chaos && this.rand() < 0.04) return; // never acked on this stream: re-sent on the next
    const delay = this.chaos ? Math.floor(this.rand() * 300) : 0;
    setTimeout(() => void this.ack(base, seen), delay);
  }

  private async ack(base: string, seen: Seen): Promise<void> {
    try {
      const res = await fetch(`${base}/v1/events/${encodeURIComponent(seen.id)}/ack`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}` },
        // roomy: an ack the sidecar takes after a freeze (sidecar-freeze) and answers late is
        // still the agent's; one given up on would be committed there and never seen accepted
        signal: AbortSignal.timeout(15_000),
      });
      await res.body?.cancel();
      if (res.status === 204 && this.ledger.accept(seen)) this.onAccepted(seen, base);
    } catch {
      // the sidecar went away: the delivery is re-sent by the next one
    }
  }
}
