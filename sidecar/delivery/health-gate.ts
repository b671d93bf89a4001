/**
 * The agent-wide health gate of push delivery (a circuit breaker). Closed, every session sends.
 * After `openAfter` consecutive attempts that say the agent is down (refused, reset, timeout,
 * 5xx, 408/429, a redirect), from any sessions, it opens: no session sends, and one probe at a
 * time goes out on one shared jittered backoff (`agent.retryBaseMs` → `agent.retryMaxMs`). The
 * first answer that shows the agent up (a 2xx, or a 4xx: that is one delivery's problem, and
 * proof the agent answers) closes it and every waiting session goes at once. Retries then scale
 * with the agent's health, not with the number of sessions, and recovery takes one probe
 * instead of each session's own backoff running out (docs/decisions.md).
 */
import type { Clock } from '../../core/di/clock.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import { type BackoffBounds, backoffDelay, type RandomSource } from '../../core/transport/backoff.js';
import type { DeliveryResult } from './delivery-target.js';
import { Fifo } from './fifo.js';

/** How a wait at the gate ended: closed (send), this attempt is the probe, or delivery stopped. */
export type GatePass = 'go' | 'probe' | 'stopped';

/** The agent's reachability as `/v1/status` shows it. */
export interface AgentReach {
  /** False while the gate is open. */
  readonly reachable: boolean;
  /** When the agent was found unreachable, epoch ms; undefined while reachable. */
  readonly unreachableSince: number | undefined;
  /** The failure that opened the gate (`HTTP 503`, `ECONNREFUSED`, …); undefined while reachable. */
  readonly reason: string | undefined;
  /** Probes that failed since the gate opened. */
  readonly failedProbes: number;
}

/** Gate settings and collaborators. */
export interface HealthGateOptions {
  /** Consecutive agent-down attempts that open the gate (`agent.unreachableAfterFailures`). */
  readonly openAfter: number;
  /** The probes' backoff (`agent.retryBaseMs` → `agent.retryMaxMs`). */
  readonly retry: BackoffBounds;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly random?: RandomSource;
  /** Deliveries queued and not yet delivered, for the line that says the agent is unreachable. */
  readonly pending: () => number;
}

/** What an attempt's result says about the agent. */
function signalOf(result: DeliveryResult): 'up' | 'down' | 'none' {
  if (result.kind === 'delivered' || result.kind === 'rejected') return 'up';
  // a retry the sidecar caused (the store failed to begin the attempt) reached no agent
  if (result.kind === 'retry') return result.local ? 'none' : 'down';
  return 'none';
}

/**
 * The gate. All methods are synchronous; waiters are served in arrival order, and a probe that
 * failed waits behind the others, so one delivery the agent cannot take (it answers 500 to that
 * one only) does not hold the gate open while the others would go through.
 */
export class HealthGate {
  /** Consecutive agent-down attempts (any sessions) since the last sign of life. */
  private failures = 0;
  private openSince: number | undefined;
  private reason: string | undefined;
  private failedProbes = 0;
  /** A probe is out: no other goes until it reports. */
  private probing = false;
  /** The backoff before the next probe has run out. */
  private due = false;
  /**
   * The backoff's timer, and when it ends (epoch ms, only to compare with a `Retry-After`): the
   * wait itself runs on the timer, so a wall clock stepped back cannot stretch it.
   */
  private timer: NodeJS.Timeout | undefined;
  private timerEnds = 0;
  private stopped = false;
  private readonly waiters = new Fifo<(pass: GatePass) => void>();
  private readonly log: Logger;

  constructor(private readonly opts: HealthGateOptions) {
    this.log = opts.log.child({ component: 'agent-health' });
    opts.metrics.agentUnreachable.set(0);
  }

  /** True while the agent is taken for unreachable: only the probe may send. */
  get isOpen(): boolean {
    return this.openSince !== undefined;
  }

  /** The state for `/v1/status`. */
  get reach(): AgentReach {
    return {
      reachable: !this.isOpen,
      unreachableSince: this.openSince,
      reason: this.reason,
      failedProbes: this.failedProbes,
    };
  }

  /** Wait until the gate closes, or this caller's turn to probe comes. At once when closed. */
  pass(): Promise<GatePass> {
    if (this.stopped) return Promise.resolve('stopped');
    if (!this.isOpen) return Promise.resolve('go');
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.arm();
    });
  }

  /**
   * An attempt ended with `result`; `probe` when it was the gate's probe. Must be called for
   * every probe handed out ({@link handBack} when it was not sent), or no other goes.
   */
  record(result: DeliveryResult, probe: boolean): void {
    const signal = signalOf(result);
    if (signal === 'up') {
      if (probe) this.probing = false;
      this.failures = 0;
      if (this.isOpen) this.close();
      return;
    }
    if (signal === 'down' && result.kind === 'retry') this.down(result, probe);
    // a probe that reached no agent (acked meanwhile, the store failing): the next one goes now
    else if (probe) this.due = true;
    if (probe) this.probing = false;
    this.arm();
  }

  /** The probe handed out was not sent (its delivery was acked meanwhile): the next waiter probes. */
  handBack(): void {
    this.probing = false;
    this.due = true;
    this.arm();
  }

  /** Wake every waiter with `stopped` and arm nothing more. */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
    for (let wake = this.waiters.shift(); wake; wake = this.waiters.shift()) wake('stopped');
  }

  private down(result: Extract<DeliveryResult, { kind: 'retry' }>, probe: boolean): void {
    this.failures += 1;
    if (!this.isOpen && this.failures >= this.opts.openAfter) this.open(result);
    else if (probe && this.isOpen) {
      this.failedProbes += 1;
      this.schedule(backoffDelay(this.failedProbes, this.opts.retry, this.opts.random));
    }
    // the agent said when to come back: that holds for every session, not only this delivery's
    const after = result.retryAfterMs;
    if (after === undefined) return;
    if (!this.isOpen) this.open(result);
    const wait = Math.min(after, this.opts.retry.maxMs);
    if (this.due || !this.timer || this.timerEnds < this.opts.clock.now() + wait) this.schedule(wait);
  }

  private open(result: Extract<DeliveryResult, { kind: 'retry' }>): void {
    this.openSince = this.opts.clock.now();
    this.reason = result.reason;
    this.failedProbes = 0;
    this.schedule(backoffDelay(0, this.opts.retry, this.opts.random));
    this.opts.metrics.agentUnreachable.set(1);
    this.opts.metrics.agentOutages.inc();
    // once per outage: the failures behind it are counted, and logged at debug
    reportError(this.log, this.opts.metrics, 'CORE_ERR_DELIVERY_AGENT_UNREACHABLE', 'agent unreachable', {
      reason: result.reason,
      status: result.status,
      failures: this.failures,
      pending: this.opts.pending(),
    });
  }

  private close(): void {
    const since = this.openSince ?? this.opts.clock.now();
    this.log.info(
      { downMs: Math.max(0, this.opts.clock.now() - since), failedProbes: this.failedProbes },
      'agent reachable again',
    );
    this.openSince = undefined;
    this.reason = undefined;
    this.failedProbes = 0;
    this.clearTimer();
    this.opts.metrics.agentUnreachable.set(0);
    // every waiter at once: the slots of agent.concurrency bound how many send
    for (let wake = this.waiters.shift(); wake; wake = this.waiters.shift()) wake('go');
  }

  /** The next probe goes after `ms`. */
  private schedule(ms: number): void {
    this.clearTimer();
    this.due = false;
    this.timerEnds = this.opts.clock.now() + ms;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.due = true;
      this.arm();
    }, ms);
  }

  private clearTimer(): void {
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Hand the probe to the first waiter once its backoff has run out. */
  private arm(): void {
    if (this.stopped || !this.isOpen || this.probing || !this.due) return;
    const next = this.waiters.shift();
    if (!next) return;
    this.probing = true;
    this.due = false;
    next('probe');
  }
}
