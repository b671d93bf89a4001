/**
 * One delivery's attempts, from its first to the one that settles it (delivered, dead-lettered,
 * or acknowledged some other way), with a slot of `agent.concurrency` for each attempt and none
 * while it waits: its own jittered backoff after a failure while the agent is reachable, the
 * agent-wide {@link HealthGate} while it is not, and the outbox's room while it holds
 * `agent.maxResponseActions` response actions (push).
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import { backoffDelay } from '../../core/transport/backoff.js';
import type { QueuedDelivery } from '../inbox/event-table.js';
import type { DeliveryResult, DeliveryTarget } from './delivery-target.js';
import { type AgentReach, HealthGate } from './health-gate.js';
import type { InFlight } from './in-flight.js';
import { type SettleContext, type SettlePolicy, settleAttempt } from './settle-attempt.js';
import type { SlotPool } from './slot-pool.js';

/** How deliveries are attempted: shared by the scheduler's options. */
export interface AttemptPolicy extends SettlePolicy {
  readonly target: DeliveryTarget;
  /**
   * Push: consecutive agent-down attempts after which only one probe at a time is sent until
   * the agent answers (`agent.unreachableAfterFailures`; {@link HealthGate}). Unset: no gate
   * (pull: the agent's stream attaching is its sign of life).
   */
  readonly unreachableAfter?: number;
}

/** A lane as attempts see it: whether it holds a slot of the pool right now. */
export interface SlotHolder {
  holds: boolean;
}

/**
 * Whether an attempt may go: yes; yes after waiting at the gate (`resume`) or as its probe; no
 * (stopped); or not needed (acked).
 */
type Turn = 'go' | 'resume' | 'probe' | 'stop' | 'skip';

/** The attempts of the scheduler's deliveries. */
export class Attempts {
  private readonly sleepers = new Set<() => void>();
  private readonly gate: HealthGate | undefined;
  private readonly settle: SettleContext;
  private stopped = false;
  /** Deliveries wait for room in the response actions' outbox (said once). */
  private outboxWaiting = false;

  /**
   * @param skipped ids acknowledged some other way (the scheduler's): not attempted again
   * @param pending deliveries queued or being delivered, for the gate's log line
   */
  constructor(
    private readonly opts: AttemptPolicy,
    private readonly log: Logger,
    private readonly slots: SlotPool,
    private readonly inFlight: InFlight,
    private readonly skipped: ReadonlySet<string>,
    pending: () => number,
  ) {
    const gate =
      opts.unreachableAfter === undefined
        ? undefined
        : new HealthGate({ ...opts, openAfter: opts.unreachableAfter, pending });
    this.gate = gate;
    // while the gate is open its one line says the agent is down: each failure is logged at debug
    this.settle = { ...opts, log, inFlight, quiet: () => gate?.isOpen === true };
  }

  /** Push: the agent's reachability; pull: undefined. */
  get agentReach(): AgentReach | undefined {
    return this.gate?.reach;
  }

  /** Wake sleeping retries and waiters at the gate: they end without another attempt. */
  stop(): void {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    this.gate?.stop();
  }

  /** Attempt until delivered, dead or stopped. Returns whether the lane may go on. */
  async deliver(entry: QueuedDelivery, lane: SlotHolder): Promise<boolean> {
    let failures = 0;
    // the first attempt goes under the slot the lane started with (its own, or a shared one)
    let started = true;
    for (;;) {
      // the first attempt with the agent reachable, the common case, needs no wait (no promise)
      const turn =
        started && !this.stopped && !this.gate?.isOpen ? 'go' : await this.turn(entry, lane, started);
      if (turn === 'stop') return false;
      if (turn === 'skip') return true;
      // the gate opened on another attempt's result between the check and now: wait there
      if (turn !== 'probe' && this.gate?.isOpen) continue;
      // stored response actions are at agent.maxResponseActions: an answer's actions would have
      // nowhere to go, so the agent is asked nothing more until some have run. Asking and then
      // refusing its answer would rely on it answering the repeat the same way, and an agent that
      // dedupes by id answers it with nothing. A probe still goes (its answer is kept: the bound
      // is passed by at most the answers of attempts already out, one per slot).
      const room = turn === 'probe' ? undefined : this.opts.ledger.outboxRoom();
      if (room) {
        this.outboxFull(entry, true);
        this.releaseSlot(lane);
        started = false;
        await this.until(room);
        continue;
      }
      if (this.outboxWaiting) this.outboxFull(entry, false);
      // failures while the agent was down were not this delivery's: its own backoff starts over,
      // or after an outage each session's would stand somewhere else between base and cap
      if (turn !== 'go') failures = 0;
      started = false;
      let wait: number | undefined;
      // counted until the result is durable, so close() waits for the bookkeeping too
      this.inFlight.enter();
      try {
        const result = await this.attempt(entry);
        this.gate?.record(result, turn === 'probe');
        wait = await settleAttempt(this.settle, entry, result, failures);
      } catch (err) {
        // the store failed to record the outcome (a rejection, a dead letter): the row is still
        // pending, so it is tried again after a backoff, and its session's next waits. Moving on
        // left it out of the queue until a restart, delivered then after the messages behind it.
        reportError(this.log, this.opts.metrics, 'CORE_ERR_INBOX_COMMIT_FAILED', 'delivery state not saved', {
          id: entry.id,
          error: errorMessage(err),
        });
        wait = backoffDelay(failures, this.opts.retry, this.opts.random);
      } finally {
        this.inFlight.leave();
      }
      if (wait === undefined) return true;
      failures += 1;
      // back off without a slot: other sessions use it meanwhile
      this.releaseSlot(lane);
      // while the agent is unreachable the gate's probes set the pace: no backoff of its own
      if (!this.gate?.isOpen) await this.sleep(wait);
    }
  }

  /**
   * Wait until the next attempt of `entry` may go: not while the agent is unreachable (unless
   * it is the gate's probe), and with a slot of the lane's own, except under the one it started
   * with (`started`). A retry takes a slot of its own, ahead of sessions not yet started.
   */
  private async turn(entry: QueuedDelivery, lane: SlotHolder, started: boolean): Promise<Turn> {
    let waited = false;
    for (;;) {
      if (this.stopped) return 'stop';
      // acknowledged some other way meanwhile (a late pull ack): no other attempt
      if (this.skipped.has(entry.id)) return 'skip';
      const gate = this.gate;
      if (!gate?.isOpen) {
        if (started || lane.holds) return waited ? 'resume' : 'go';
        if (!(await this.slots.acquire(true))) return 'stop';
        lane.holds = true;
        // the gate may have opened while this waited for the slot: look again
        continue;
      }
      // the agent is unreachable: wait without a slot, other lanes wait likewise
      this.releaseSlot(lane);
      started = false;
      waited = true;
      const pass = await gate.pass();
      if (pass === 'stopped') return 'stop';
      if (pass === 'go') continue;
      // the probe: it goes whatever the gate says now, with a slot of its own
      const ok = !this.skipped.has(entry.id) && (await this.slots.acquire(true));
      if (ok && !this.stopped) {
        lane.holds = true;
        return 'probe';
      }
      if (ok) this.slots.release();
      gate.handBack();
    }
  }

  /** Say once that deliveries wait for the outbox (`full`), and once that they go again. */
  private outboxFull(entry: QueuedDelivery, full: boolean): void {
    if (full === this.outboxWaiting) return;
    this.outboxWaiting = full;
    if (full) {
      const fields = { id: entry.id, sessionKey: entry.sessionKey };
      reportError(
        this.log,
        this.opts.metrics,
        'CORE_ERR_DELIVERY_OUTBOX_FULL',
        'response actions outbox full',
        fields,
      );
    } else this.log.info('response actions outbox has room again');
  }

  private releaseSlot(lane: SlotHolder): void {
    if (lane.holds) this.slots.release();
    lane.holds = false;
  }

  private async attempt(entry: QueuedDelivery): Promise<DeliveryResult> {
    const { ledger, target } = this.opts;
    try {
      return await target.deliver({
        id: entry.id,
        type: entry.type,
        sessionKey: entry.sessionKey,
        begin: () => ledger.begin(entry.id),
      });
    } catch (err) {
      // targets never reject; if one does, treat it as the agent being unreachable
      return { kind: 'retry', reason: errorMessage(err) };
    }
  }

  /** Wait for `event`, or for {@link stop}. */
  private until(event: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleepers.delete(wake);
        resolve();
      };
      this.sleepers.add(wake);
      void event.then(wake);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.opts.clock.clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = this.opts.clock.setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
