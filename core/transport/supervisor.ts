/**
 * The reconnect supervisor: exactly one dialer, full-jitter backoff between failures, a ladder
 * reset once a connection has been stable, and the 4401 rules (contract section 6). It owns the
 * current session reference; `dial()` is refused while a session or a scheduled redial exists,
 * so no code path can ever hold two connections.
 */
import type { Clock } from '../di/clock.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import type { BackoffLadder } from './backoff.js';
import { CLOSE_UNAUTHORIZED, decideAfterClose } from './close-policy.js';
import type { StateCell } from './relay-state.js';
import { dialFailureLevel } from './session-types.js';
import type { SessionClose, SocketSession } from './socket-session.js';

/** Supervisor collaborators. */
export interface SupervisorDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly ladder: BackoffLadder;
  readonly state: StateCell;
  /** A connection up this long resets the ladder and the 4401 strikes, ms. */
  readonly stableAfterMs: number;
  /** Create and open one session (its `closed` event must reach {@link Supervisor.closed}). */
  readonly dial: () => SocketSession;
}

/** Keeps one connection alive until stopped or revoked. */
export class Supervisor {
  private current: SocketSession | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  private everHandshaken = false;
  private strikes = 0;
  private dials = 0;
  private halted = false;

  constructor(private readonly deps: SupervisorDeps) {}

  /** The live (or dialing) session, if any. */
  get session(): SocketSession | undefined {
    return this.current;
  }

  /** Dials made so far (the first plus reconnects). */
  get dialCount(): number {
    return this.dials;
  }

  /** Begin dialing. Idempotent. */
  start(): void {
    if (this.dials === 0) this.dial();
  }

  /** The current session completed its handshake. */
  handshaken(session: SocketSession): void {
    if (session !== this.current || this.halted) return;
    this.everHandshaken = true;
    this.deps.state.set('ready');
    this.deps.clock.clearTimeout(this.stableTimer);
    this.stableTimer = this.deps.clock.setTimeout(() => {
      // Up long enough: the next drop starts the ladder from the bottom again.
      this.deps.ladder.reset();
      this.strikes = 0;
    }, this.deps.stableAfterMs);
  }

  /** A session ended: decide what comes next. */
  closed(session: SocketSession, info: SessionClose): void {
    if (session !== this.current) return;
    this.current = undefined;
    this.deps.clock.clearTimeout(this.stableTimer);
    this.stableTimer = undefined;
    if (this.halted) return;
    // consecutive failed dials before this close: the throttle of the reports below
    const failedBefore = this.deps.ladder.attempts;
    if (info.code === CLOSE_UNAUTHORIZED) {
      // before any handshake a 4401 repeats at every backoff step (a connector not provisioned
      // yet): throttled like a failed dial; afterwards at most two come before revocation
      reportError(
        this.deps.log,
        this.deps.metrics,
        'CORE_ERR_TRANSPORT_UNAUTHORIZED',
        'relay connection closed 4401 (unauthorized)',
        { reason: info.reason, everHandshaken: this.everHandshaken, failedBefore },
        this.everHandshaken ? 'warn' : dialFailureLevel(failedBefore),
      );
    } else if (info.opened && !info.handshaken && info.cause === undefined) {
      // Upgraded, then closed by the connector before its descriptor: a dial that failed, reported
      // like one (a connector refusing every session otherwise left only info lines).
      const fields = { closeCode: info.code, reason: info.reason, failedBefore };
      const msg = 'relay connection closed before the handshake';
      const level = dialFailureLevel(failedBefore);
      reportError(this.deps.log, this.deps.metrics, 'CORE_ERR_TRANSPORT_DIAL_FAILED', msg, fields, level);
    }
    const decision = decideAfterClose({
      code: info.code,
      reason: info.reason,
      everHandshaken: this.everHandshaken,
      strikes: this.strikes,
    });
    this.strikes = decision.strikes;
    if (decision.action === 'revoked') {
      this.halt();
      reportError(
        this.deps.log,
        this.deps.metrics,
        'CORE_ERR_TRANSPORT_REVOKED',
        'relay credentials revoked',
        { reason: info.reason },
        'error',
      );
      this.deps.state.set('revoked', { code: 'CORE_ERR_TRANSPORT_REVOKED', reason: info.reason });
      return;
    }
    // Before the first handshake the client is still `connecting`; afterwards it reconnects.
    this.deps.state.set(this.everHandshaken ? 'reconnecting' : 'connecting');
    // The immediate redial after a first non-expired 4401 gets a fresh token and no delay.
    const delayMs = decision.action === 'immediate' ? 0 : this.deps.ladder.fail();
    this.deps.log.info(
      { delayMs, attempt: this.deps.ladder.attempts, closeCode: info.code },
      'relay redial scheduled',
    );
    this.retryTimer = this.deps.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.dial();
    }, delayMs);
  }

  /** No more dials; returns the session to close (if any). Idempotent. */
  stop(): SocketSession | undefined {
    this.halt();
    return this.current;
  }

  private halt(): void {
    this.halted = true;
    this.deps.clock.clearTimeout(this.retryTimer);
    this.deps.clock.clearTimeout(this.stableTimer);
    this.retryTimer = undefined;
    this.stableTimer = undefined;
  }

  /** The one place a session is created. */
  private dial(): void {
    // The single-dialer guard: never a second session while one exists or a redial is due.
    if (this.halted || this.current || this.retryTimer) return;
    if (this.dials > 0) this.deps.metrics.reconnects.inc();
    this.dials += 1;
    this.current = this.deps.dial();
  }
}
