/**
 * Delivery to the agent, assembled from config: the scheduler over a push or pull target, and
 * the runner of response actions. Closing is bounded and closes only what it created.
 */
import type { Config } from '../../core/config/schema.js';
import type { Clock } from '../../core/di/clock.js';
import { type PauseMeter, timeOf } from '../../core/di/pause-meter.js';
import { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { RandomSource } from '../../core/transport/backoff.js';
import { type ActionOutbox, ActionRunner, type ExecuteAction } from './action-runner.js';
import type { DeliveryLedger, DeliveryTarget } from './delivery-target.js';
import type { AgentReach } from './health-gate.js';
import { PullDelivery } from './pull-delivery.js';
import { PushDelivery } from './push-delivery.js';
import { Scheduler } from './scheduler.js';

/** What delivery needs. */
export interface DeliveryOptions {
  readonly config: Config;
  readonly ledger: DeliveryLedger;
  /** Where push response actions wait to run (written by the ledger's delivered mark). */
  readonly outbox: ActionOutbox;
  /** The API token: signs push requests. Never logged. */
  readonly apiToken: string;
  /** Execute one action from a push response body, as `POST /v1/actions` would. */
  readonly executeAction: ExecuteAction;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly random?: RandomSource;
  /** Pull keep-alive comment interval, ms; default 15 s. */
  readonly pullKeepAliveMs?: number;
  /** Pull: an ack for an id not outstanding in memory. */
  readonly lateAck?: (id: string) => 'acked' | 'unknown';
}

/** The assembled delivery. */
export class Delivery {
  readonly scheduler: Scheduler;
  /** Present in pull mode: mount it on `GET /v1/events` and `POST /v1/events/{id}/ack`. */
  readonly pull: PullDelivery | undefined;
  private readonly target: DeliveryTarget;
  private readonly actions: ActionRunner;

  constructor(opts: DeliveryOptions) {
    const { config, clock, log, metrics } = opts;
    const agent = config.agent;
    this.actions = new ActionRunner(opts.executeAction, opts.outbox, log, metrics);
    if (agent.mode === 'pull') {
      this.pull = new PullDelivery({
        clock,
        log,
        metrics,
        ...(opts.pullKeepAliveMs ? { keepAliveMs: opts.pullKeepAliveMs } : {}),
        ...(opts.lateAck ? { lateAck: opts.lateAck } : {}),
      });
      this.target = this.pull;
    } else {
      // validateConfig already refuses push mode without a URL; this guards direct callers
      if (!agent.url)
        throw new RelayError('CORE_ERR_CONFIG_INVALID', 'agent.url (AGENT_URL): push mode needs it');
      this.pull = undefined;
      this.target = new PushDelivery({
        url: agent.url,
        token: opts.apiToken,
        timeoutMs: agent.timeoutMs,
        // interrupts may run beside the turns of their sessions (interruptsShareSlot)
        maxSockets: agent.concurrency * 2,
        maxResponseBytes: config.api.maxBodyBytes,
        clock,
        log,
        metrics,
      });
    }
    this.scheduler = new Scheduler({
      // pull: one unacked delivery per session, so the unacked bound is the parallelism bound
      slots: agent.mode === 'pull' ? agent.maxInFlight : agent.concurrency,
      interruptsShareSlot: agent.mode === 'push',
      target: this.target,
      ledger: opts.ledger,
      log,
      metrics,
      clock,
      retry: { baseMs: agent.retryBaseMs, maxMs: agent.retryMaxMs },
      maxRejections: agent.maxRejections,
      ...(agent.mode === 'push' ? { unreachableAfter: agent.unreachableAfterFailures } : {}),
      ...(opts.random ? { random: opts.random } : {}),
      onActions: (entry) => this.actions.kick(entry.sessionKey),
    });
  }

  /** Attempts in flight (push requests; pull deliveries awaiting their ack). */
  get attempting(): number {
    return this.scheduler.attempting;
  }

  /** Push: whether the agent is taken for reachable (the health gate); pull: undefined. */
  get agentReach(): AgentReach | undefined {
    return this.scheduler.agentReach;
  }

  /** Begin delivering, and run the response actions an earlier life left stored. */
  start(): void {
    this.scheduler.start();
    this.actions.resume();
  }

  /**
   * Stop scheduling; give push requests in flight until `budgetMs` to finish, or, in pull mode,
   * the attached agent until then to ack what it was sent (the wait ends early when all are
   * acked or the stream closes; the API and the socket stay up for its actions meanwhile), and
   * stored response actions what is left of the budget: those that can go out do, one that
   * meets no connection stays stored for the next start instead of waiting for one. Then no
   * further action starts. Idempotent; {@link close} follows. Resolves with what is still
   * unfinished when the budget ran out (push requests or unacked pull deliveries, and sessions
   * with a response action whose frame is out; 0 when everything finished), for the shutdown to
   * report. The waits run on `meter`'s time when given (the drain's, less the process's pauses:
   * a freeze ended them at the resume, with the agent's answer unread), else monotonic time.
   */
  async quiesce(budgetMs: number, meter?: PauseMeter): Promise<number> {
    const now = timeOf(meter);
    const deadline = now() + budgetMs;
    this.actions.drain();
    await this.stopScheduling(budgetMs, meter);
    const unacked = this.pull ? await this.pull.acksIn(Math.max(0, deadline - now()), meter) : 0;
    await this.actions.idle(Math.max(0, deadline - now()), meter);
    this.actions.stop();
    return (this.pull ? unacked : this.scheduler.attempting) + this.actions.busy;
  }

  /**
   * {@link quiesce}, then abort what is still in flight (pull deliveries are cancelled) and wait
   * for response actions already started within what is left of the budget; the rest stay
   * stored for the next start. On `meter`'s time as {@link quiesce}.
   */
  async close(budgetMs: number, meter?: PauseMeter): Promise<void> {
    const now = timeOf(meter);
    const deadline = now() + budgetMs;
    this.actions.drain();
    await this.stopScheduling(budgetMs, meter);
    await this.target.close();
    this.actions.stop();
    await this.actions.idle(Math.max(0, deadline - now()), meter);
  }

  /** Start no more deliveries; wait up to `budgetMs` for push requests in flight. */
  private async stopScheduling(budgetMs: number, meter: PauseMeter | undefined): Promise<void> {
    this.scheduler.stop();
    if (!this.pull) await this.scheduler.idle(budgetMs, meter);
  }
}
