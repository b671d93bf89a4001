import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import { backoffDelay } from '../../core/transport/backoff.js';
import type { QueuedDelivery } from '../inbox/event-table.js';
import type { DeliveryResult, DeliveryTarget } from './delivery-target.js';
import { Fifo } from './fifo.js';
import { InFlight } from './in-flight.js';
import { type SettleContext, type SettlePolicy, settleAttempt } from './settle-attempt.js';
import { SlotPool } from './slot-pool.js';

/** Scheduler settings and collaborators. */
export interface SchedulerOptions extends SettlePolicy {
  /** Deliveries in flight at once (push: `agent.concurrency`; pull: `agent.maxInFlight`). */
  readonly slots: number;
  readonly target: DeliveryTarget;
  /**
   * Push: an interrupt for a session whose message holds a slot runs under that slot instead of
   * waiting for one of its own, so it reaches the turn in flight even when every slot is taken
   * (at most `slots` such interrupts: up to twice `slots` requests at once). Pull keeps its
   * `agent.maxInFlight` bound on unacked deliveries strict. Default false.
   */
  readonly interruptsShareSlot?: boolean;
}

interface Lane {
  readonly queue: Fifo<QueuedDelivery>;
  busy: boolean;
  /** The lane holds a slot of the pool right now (not while it backs off or shares one). */
  holds: boolean;
}

/** How a lane starts: with a slot of its own, under its session's message slot, or with none. */
type LaneStart = 'held' | 'shared' | 'none';

interface Session {
  readonly key: string;
  readonly messages: Lane;
  readonly interrupts: Lane;
}

const lane = (): Lane => ({ queue: new Fifo(), busy: false, holds: false });

/** Per-session delivery scheduling. */
export class Scheduler {
  private readonly sessions = new Map<string, Session>();
  private readonly slots: SlotPool;
  private readonly skipped = new Set<string>();
  private readonly sleepers = new Set<() => void>();
  private readonly log: Logger;
  private readonly inFlight: InFlight;
  private readonly settle: SettleContext;
  private stopped = false;
  private started = false;
  private backlog: QueuedDelivery[] = [];

  constructor(private readonly opts: SchedulerOptions) {
    this.log = opts.log.child({ component: 'scheduler' });
    this.slots = new SlotPool(Math.max(1, opts.slots));
    this.inFlight = new InFlight(opts.clock);
    this.settle = { ...opts, log: this.log, inFlight: this.inFlight };
  }

  /** Deliveries being attempted right now (pull: sent and awaiting their ack). */
  get attempting(): number {
    return this.inFlight.size;
  }

  /** Begin delivering (entries enqueued before are held until now). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const held = this.backlog;
    this.backlog = [];
    this.enqueue(held);
  }

  /** Queue committed rows, in commit order. */
  enqueue(entries: readonly QueuedDelivery[]): void {
    if (this.stopped) return;
    if (!this.started) {
      this.backlog.push(...entries);
      return;
    }
    const touched = new Set<Session>();
    for (const entry of entries) {
      let session = this.sessions.get(entry.sessionKey);
      if (!session) {
        session = { key: entry.sessionKey, messages: lane(), interrupts: lane() };
        this.sessions.set(entry.sessionKey, session);
      }
      (entry.type === 'interrupt' ? session.interrupts : session.messages).queue.push(entry);
      touched.add(session);
    }
    for (const session of touched) this.kick(session);
  }

  /** Do not deliver `id` when its turn comes (it was acknowledged some other way). */
  skip(id: string): void {
    this.skipped.add(id);
  }

  /** Stop starting deliveries and wake sleeping retries (they end without another attempt). */
  stop(): void {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    this.slots.close();
  }

  /** Resolve when no attempt (or its bookkeeping) is in flight, or after `budgetMs`. */
  idle(budgetMs: number): Promise<void> {
    return this.inFlight.idle(budgetMs);
  }

  /** Last line of defence: a lane must never end in an unhandled rejection. */
  private readonly crashed = (err: unknown): void => {
    const fields = { step: 'delivery lane', error: errorMessage(err) };
    reportError(
      this.log,
      this.opts.metrics,
      'CORE_ERR_INTERNAL_THREW',
      'delivery lane failed',
      fields,
      'error',
    );
  };

  /** Start whichever lanes of `session` may run now. */
  private kick(session: Session): void {
    if (this.stopped) return;
    const { interrupts, messages } = session;
    if (!interrupts.busy && interrupts.queue.length > 0) {
      interrupts.busy = true;
      if (this.mayShare(session)) {
        // the turn in flight holds the slot: waiting for another would hold the interrupt
        // until some turn ends, and with every slot taken by turns that is after its own
        void this.runLane(session, interrupts, 'shared').catch(this.crashed);
      } else {
        void this.slots
          .acquire(true)
          .then((ok) => this.runLane(session, interrupts, ok ? 'held' : 'none').catch(this.crashed));
      }
    }
    if (!messages.busy && messages.queue.length > 0 && this.interruptsClear(session)) {
      messages.busy = true;
      void this.slots
        .acquire(false)
        .then((ok) => this.runLane(session, messages, ok ? 'held' : 'none').catch(this.crashed));
    }
  }

  private interruptsClear(session: Session): boolean {
    return !session.interrupts.busy && session.interrupts.queue.length === 0;
  }

  /** An interrupt of `session` may run under the slot its message lane holds. */
  private mayShare(session: Session): boolean {
    return this.opts.interruptsShareSlot === true && session.messages.holds;
  }

  /** Deliver the lane's items one at a time while holding a slot. */
  private async runLane(session: Session, current: Lane, start: LaneStart): Promise<void> {
    current.holds = start === 'held';
    let going = start !== 'none';
    try {
      while (going && !this.stopped) {
        // an interrupt that arrived while this lane waited for its slot still goes first
        if (current === session.messages && !this.interruptsClear(session)) break;
        // sharing lasts while the turn holds its slot; then the next interrupt takes its own
        if (!current.holds && !this.mayShare(session)) break;
        const entry = current.queue.shift();
        if (!entry) break;
        if (this.skipped.delete(entry.id)) continue;
        going = await this.deliverEntry(entry, current);
        // acknowledged some other way while it was being tried (a late pull ack): done with it
        this.skipped.delete(entry.id);
      }
    } finally {
      if (current.holds) this.slots.release();
      current.holds = false;
      current.busy = false;
      const { messages, interrupts } = session;
      if (messages.queue.length + interrupts.queue.length > 0) this.kick(session);
      else if (!messages.busy && !interrupts.busy) this.sessions.delete(session.key);
    }
  }

  /** Attempt until delivered, dead or stopped. Returns whether the lane may go on. */
  private async deliverEntry(entry: QueuedDelivery, lane: Lane): Promise<boolean> {
    let failures = 0;
    for (;;) {
      let wait: number | undefined;
      // counted until the result is durable, so close() waits for the bookkeeping too
      this.inFlight.enter();
      try {
        wait = await settleAttempt(this.settle, entry, await this.attempt(entry), failures);
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
      if (lane.holds) this.slots.release();
      lane.holds = false;
      await this.sleep(wait);
      if (this.stopped) return false;
      // acknowledged some other way meanwhile (a late pull ack): no other attempt
      if (this.skipped.has(entry.id)) return true;
      // a shared slot is not waited for again: the retry takes a slot of its own
      if (!(await this.slots.acquire(true))) return false;
      lane.holds = true;
    }
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
