import type { PauseMeter } from '../../core/di/pause-meter.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { QueuedDelivery } from '../inbox/event-table.js';
import { type AttemptPolicy, Attempts } from './attempts.js';
import { Fifo } from './fifo.js';
import type { AgentReach } from './health-gate.js';
import { InFlight } from './in-flight.js';
import { SlotPool } from './slot-pool.js';

/** Scheduler settings and collaborators. */
export interface SchedulerOptions extends AttemptPolicy {
  /** Deliveries in flight at once (push: `agent.concurrency`; pull: `agent.maxInFlight`). */
  readonly slots: number;
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
  /**
   * The lane holds a slot of the pool right now (not while it backs off, waits at the health
   * gate, or shares one).
   */
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
  private readonly log: Logger;
  private readonly inFlight: InFlight;
  private readonly attempts: Attempts;
  /** Entries queued or being delivered (for the line that says the agent is unreachable). */
  private pending = 0;
  private stopped = false;
  private started = false;
  private backlog: QueuedDelivery[] = [];

  constructor(private readonly opts: SchedulerOptions) {
    this.log = opts.log.child({ component: 'scheduler' });
    this.slots = new SlotPool(Math.max(1, opts.slots));
    this.inFlight = new InFlight(opts.clock);
    const pending = () => this.pending;
    this.attempts = new Attempts(opts, this.log, this.slots, this.inFlight, this.skipped, pending);
  }

  /** Push: whether the agent is taken for reachable, since when not and why; pull: undefined. */
  get agentReach(): AgentReach | undefined {
    return this.attempts.agentReach;
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
    this.pending += entries.length;
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
    this.attempts.stop();
    this.slots.close();
  }

  /** Resolve when no attempt (or its bookkeeping) is in flight, or after `budgetMs`. */
  idle(budgetMs: number, meter?: PauseMeter): Promise<void> {
    return this.inFlight.idle(budgetMs, meter);
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
        if (!this.skipped.delete(entry.id)) going = await this.attempts.deliver(entry, current);
        this.pending -= 1;
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
}
