/**
 * Keepalive (relay contract section 1): a WebSocket protocol ping every `pingIntervalMs`; no pong
 * within `pongTimeoutMs` of an unanswered ping ⇒ the socket is dead. There are no
 * application-level ping frames. A half-open TCP connection (NAT timeout, sleeping laptop) never
 * reports a close, so without this the sidecar would wait forever on a socket that is gone.
 *
 * One exception: a message still arriving holds the pong back behind it (TCP keeps order), so
 * on a slow link a large message would outlast the deadline and be lost with the socket. When
 * the deadline passes while the peer's bytes kept coming since it was set and stopped in the
 * middle of a message, it is set again. A peer that sends whole frames but never reads (no pong)
 * is still dead, and so is one silent in the middle of a message.
 *
 * The deadline is an {@link armDeadline}: after a freeze (SIGSTOP, a paused VM) it fires before
 * the pong that came meanwhile is read, and a healthy socket was terminated (its pending outbound
 * calls answered "connection lost", ambiguous); late, it waits while the peer's bytes are read.
 */
import type { Clock } from '../di/clock.js';
import { armDeadline, type Deadline } from '../di/deadline.js';

/** What the heartbeat needs of a socket. */
export interface Pingable {
  ping(): void;
}

/** Heartbeat timings, ms. */
export interface HeartbeatTimings {
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
}

/** Pings one socket and declares it dead when pongs stop. Owns and clears its timers. */
export class Heartbeat {
  private pingTimer: NodeJS.Timeout | undefined;
  private pongDeadline: Deadline | undefined;
  private running = false;
  /** Bytes arrived since the pong deadline was set. */
  private heard = false;
  /** Reads from the peer so far: what a late deadline waits on. */
  private reads = 0;
  /** The last bytes that arrived left a message (or control frame) unfinished. */
  private midMessage = false;

  /**
   * @param onDead called once when no pong arrived in time; the owner terminates the socket.
   */
  constructor(
    private readonly socket: Pingable,
    private readonly timings: HeartbeatTimings,
    private readonly clock: Clock,
    private readonly onDead: () => void,
  ) {}

  /** Start pinging. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedulePing();
  }

  /** A pong arrived: the socket is alive. */
  pong(): void {
    this.midMessage = false;
    this.pongDeadline?.clear();
    this.pongDeadline = undefined;
  }

  /** Bytes arrived from the peer: called before they are parsed (ahead of the ws listener). */
  data(): void {
    this.heard = true;
    this.midMessage = true;
    this.reads++;
  }

  /** A whole message or control frame was parsed from what arrived. */
  parsed(): void {
    this.midMessage = false;
  }

  /** Stop and clear every timer. Idempotent. */
  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.pingTimer);
    this.pongDeadline?.clear();
    this.pingTimer = undefined;
    this.pongDeadline = undefined;
  }

  private schedulePing(): void {
    this.pingTimer = this.clock.setTimeout(() => this.tick(), this.timings.pingIntervalMs);
  }

  private tick(): void {
    if (!this.running) return;
    try {
      this.socket.ping();
    } catch {
      // ping throws only when the socket is no longer open; its close event ends the session.
    }
    // One deadline per unanswered ping run: later pings do not push the deadline out.
    if (!this.pongDeadline) this.armDeadline();
    this.schedulePing();
  }

  private armDeadline(): void {
    this.heard = false;
    this.pongDeadline = armDeadline(this.clock, this.timings.pongTimeoutMs, () => this.expired(), {
      progress: () => this.reads,
    });
  }

  private expired(): void {
    if (!this.running) return;
    if (this.heard && this.midMessage) {
      // a message is still arriving: the pong is behind it
      this.armDeadline();
      return;
    }
    this.stop();
    this.onDead();
  }
}
