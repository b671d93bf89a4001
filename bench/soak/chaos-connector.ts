/**
 * The connector side of the chaos soak: the real dev connector (real WebSocket server on
 * loopback, token checks, descriptors, outbound results), killed and restarted on the same port,
 * with a durable at-least-once buffer of its own that outlives those restarts (a real connector
 * keeps its buffer across its own restarts; the dev connector's buffer dies with it), buffer ids
 * unique across restarts, and the `going_idle` rule of the contract: once an instance asked to go
 * idle, inbound for it is buffered, never sent live.
 */
import { DevConnector } from '../../sidecar/dev-connector/index.js';
import type { RecordedFrame } from '../../sidecar/dev-connector/options.js';

/** One authorized connection as the soak tracks it. */
interface ConnState {
  /** Global sequence over every connector generation (1, 2, …). */
  readonly seq: number;
  readonly gen: number;
  readonly id: number;
  /** The first descriptor went out: the handshake completed. */
  ready: boolean;
  /** The sidecar sent `going_idle` on it: buffered-only from then on. */
  idle: boolean;
  /** When the handshake completed (ms since the epoch; 0 before). */
  readyAt: number;
}

/** How a frame was handed to the sidecar. */
export interface SendOutcome {
  /** The bufferId when the frame was buffered. */
  readonly bufferId?: string;
  /** The connection's global sequence when the frame was written live or buffered on a socket. */
  readonly connSeq?: number;
}

/** An `outbound` frame the connector received. */
export interface OutboundSeen {
  readonly content: string | undefined;
  readonly op: string | undefined;
  readonly at: number;
}

/** Options of {@link ChaosConnector.start}. */
export interface ChaosConnectorOptions {
  readonly secret: string;
  /** Answer an outbound after this long, or never (`undefined`): decided per frame. */
  readonly answerDelay: () => number | undefined;
}

/** A restartable connector with a durable replay buffer. */
export class ChaosConnector {
  /** Every outbound frame received, over all generations. */
  readonly outbounds: OutboundSeen[] = [];
  /** The requestIds of the outbounds it chose never to answer (the rest it answered). */
  readonly unanswered = new Set<string>();
  /** bufferId ⇒ how many `inbound_ack`s arrived for it. */
  readonly acks = new Map<string, number>();
  /** Unsolicited or not, every going_idle the sidecar sent. */
  goingIdles = 0;
  private readonly pending = new Map<string, Record<string, unknown>>();
  private readonly conns = new Map<string, ConnState>();
  private current: DevConnector | undefined;
  private gen = 0;
  private connSeq = 0;
  private nextBuffer = 0;
  private port = 0;

  private constructor(private readonly opts: ChaosConnectorOptions) {}

  /** Start the first generation on an ephemeral port. */
  static async start(opts: ChaosConnectorOptions): Promise<ChaosConnector> {
    const c = new ChaosConnector(opts);
    await c.up();
    return c;
  }

  /** The base URL (stable across restarts). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** True while a generation is running. */
  get running(): boolean {
    return this.current !== undefined;
  }

  /** The highest connection sequence handed out so far. */
  get lastConnSeq(): number {
    return this.connSeq;
  }

  /** The sequence of the connection live frames go to now (0: none). */
  get currentConnSeq(): number {
    return this.readyConn()?.seq ?? 0;
  }

  /** How long the current connection has been handshaken, ms (0: none). */
  get currentConnAgeMs(): number {
    const c = this.readyConn();
    return c ? Date.now() - c.readyAt : 0;
  }

  /** Buffered frames not yet acked. */
  pendingIds(): string[] {
    return [...this.pending.keys()];
  }

  /** Start a generation (on the same port after the first). */
  async up(): Promise<void> {
    if (this.current) return;
    this.gen += 1;
    const gen = this.gen;
    const dc = await DevConnector.start({
      port: this.port,
      secrets: [this.opts.secret],
      maxRecorded: 2_000,
      respond: async (frame) => {
        const delay = this.opts.answerDelay();
        if (delay === undefined) {
          this.unanswered.add(frame.requestId);
          return undefined;
        }
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        return { success: true, message_id: `m-${this.outbounds.length}` };
      },
    });
    this.port = dc.port;
    dc.onFrame((f) => this.onFrame(gen, dc, f));
    this.current = dc;
  }

  /** Kill this generation (close frames, stragglers terminated after 1 s). */
  async down(): Promise<void> {
    const dc = this.current;
    this.current = undefined;
    if (dc) await dc.close();
  }

  /** Close every socket with `code` and `reason` (the connector keeps running). */
  drop(code: number, reason: string): void {
    this.current?.drop(code, reason);
  }

  /** Destroy every socket without a close frame. */
  terminate(): void {
    this.current?.terminate();
  }

  /** Stop reading every socket for `ms` (the sidecar's writes back up), then read again. */
  pauseReading(ms: number): void {
    const resume = this.current?.pauseReading();
    if (resume) setTimeout(resume, ms);
  }

  /**
   * Send a raw frame (an unsolicited going_idle_ack, …) or a raw line (junk, sent as it is) to the
   * latest connection; false when none.
   */
  sendRaw(frame: Record<string, unknown> | string): boolean {
    const conn = this.readyConn();
    if (!conn || !this.current) return false;
    try {
      this.current.send(frame, { conn: conn.id });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Hand an inbound frame to the sidecar: buffered (kept until acked, replayed on every new
   * connection) or live (written once to the current connection; with no ready, non-idle
   * connection a real connector buffers it for the instance instead).
   */
  deliver(frame: Record<string, unknown>, buffered: boolean): SendOutcome {
    return this.deliverOr(frame, buffered, true);
  }

  /** Write `frame` live to the current connection, or nothing when there is none (a retried send). */
  resendLive(frame: Record<string, unknown>): boolean {
    return this.deliverOr(frame, false, false).connSeq !== undefined;
  }

  private deliverOr(frame: Record<string, unknown>, buffered: boolean, orBuffer: boolean): SendOutcome {
    const conn = this.readyConn();
    if (!buffered && conn && this.current) {
      try {
        this.current.send(frame, { conn: conn.id });
        return { connSeq: conn.seq };
      } catch {
        // closed under us: buffer it like a connector with the instance offline
      }
    }
    if (!buffered && !orBuffer) return {};
    this.nextBuffer += 1;
    const bufferId = `soak-buf-${this.nextBuffer}`;
    const stored = { ...frame, bufferId };
    this.pending.set(bufferId, stored);
    if (conn && this.current) {
      try {
        this.current.send(stored, { conn: conn.id });
        return { bufferId, connSeq: conn.seq };
      } catch {
        // replayed on the next connection
      }
    }
    return { bufferId };
  }

  /** Stop for good. */
  async close(): Promise<void> {
    await this.down();
  }

  private readyConn(): ConnState | undefined {
    let best: ConnState | undefined;
    for (const c of this.conns.values()) {
      if (c.gen === this.gen && c.ready && !c.idle && (!best || c.seq > best.seq)) best = c;
    }
    return best;
  }

  private onFrame(gen: number, dc: DevConnector, f: RecordedFrame): void {
    const key = `${gen}:${f.conn}`;
    let conn = this.conns.get(key);
    if (!conn) {
      this.connSeq += 1;
      conn = { seq: this.connSeq, gen, id: f.conn, ready: false, idle: false, readyAt: 0 };
      this.conns.set(key, conn);
      // forget old generations' connections (bounded)
      for (const [k, c] of this.conns) if (c.gen < gen - 1) this.conns.delete(k);
    }
    if (f.dir === 'out') {
      if (f.frame.type === 'descriptor' && !conn.ready) {
        conn.ready = true;
        conn.readyAt = f.at;
        // at-least-once: everything not acked goes again on every new connection, oldest first
        const replay = [...this.pending.values()];
        const id = f.conn;
        queueMicrotask(() => {
          for (const frame of replay) {
            try {
              dc.send(frame, { conn: id });
            } catch {
              return;
            }
          }
        });
      }
      return;
    }
    switch (f.frame.type) {
      case 'inbound_ack': {
        const id = String(f.frame.bufferId);
        this.acks.set(id, (this.acks.get(id) ?? 0) + 1);
        this.pending.delete(id);
        break;
      }
      case 'going_idle':
        this.goingIdles += 1;
        conn.idle = true;
        break;
      case 'outbound': {
        const action = (f.frame.action ?? {}) as { content?: unknown; op?: unknown };
        this.outbounds.push({
          content: typeof action.content === 'string' ? action.content : undefined,
          op: typeof action.op === 'string' ? action.op : undefined,
          at: f.at,
        });
        break;
      }
    }
  }
}
