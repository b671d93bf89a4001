/**
 * Keepalive (relay contract section 1): a WebSocket protocol ping every `pingIntervalMs`; no pong
 * within `pongTimeoutMs` of an unanswered ping ⇒ the socket is dead. There are no
 * application-level ping frames. A half-open TCP connection (NAT timeout, sleeping laptop) never
 * reports a close, so without this the sidecar would wait forever on a socket that is gone.
 */
import type { Clock } from '../di/clock.js';

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
  private pongDeadline: NodeJS.Timeout | undefined;
  private running = false;

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

  /** A pong (or any other data from the peer) arrived: the socket is alive. */
  pong(): void {
    this.clock.clearTimeout(this.pongDeadline);
    this.pongDeadline = undefined;
  }

  /** Stop and clear every timer. Idempotent. */
  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.pingTimer);
    this.clock.clearTimeout(this.pongDeadline);
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
    if (!this.pongDeadline) {
      this.pongDeadline = this.clock.setTimeout(() => this.dead(), this.timings.pongTimeoutMs);
    }
    this.schedulePing();
  }

  private dead(): void {
    if (!this.running) return;
    this.stop();
    this.onDead();
  }
}
