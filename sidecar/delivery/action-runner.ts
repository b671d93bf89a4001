/**
 * Actions from push response bodies (`{"actions": [...]}`), run from the durable outbox as if
 * posted to `/v1/actions`. They were written in the transaction that marked their delivery
 * delivered; here each session's run in order (a reply to message 1 goes out before a reply to
 * message 2), sessions in parallel, and each is deleted once settled. A failing action is logged
 * and counted and never causes a re-delivery.
 *
 * At most once: an action is marked started (durably) before a try whose `outbound` frame may go
 * out, and the mark is cleared when the answer says nothing was sent. A row found started when
 * its session is read again (after a crash) may have been applied: it is reported as ambiguous
 * (`CORE_ERR_DELIVERY_ACTION_AMBIGUOUS`), removed, and never run again (relay contract).
 */
import { systemClock } from '../../core/di/clock.js';
import type { Deadline } from '../../core/di/deadline.js';
import { armWorkBound, type PauseMeter } from '../../core/di/pause-meter.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';

/** One stored response action. */
export interface OutboxAction {
  /** Its place in the outbox (the order of writing). */
  readonly seq: number;
  readonly deliveryId: string;
  /** Its index in the response's list. */
  readonly index: number;
  readonly action: unknown;
  /** A try was started and not settled (in an earlier life): ambiguous. */
  readonly started: boolean;
}

/** The durable outbox as the runner uses it; each promise settles once durable. */
export interface ActionOutbox {
  /** The oldest action of `sessionKey`, or undefined when it has none. */
  head(sessionKey: string): OutboxAction | undefined;
  /** Sessions with actions stored. */
  sessions(): string[];
  /** Mark started: its frame may go out once this resolves. */
  start(seq: number): Promise<void>;
  /** Clear the started mark: nothing was sent. */
  unstart(seq: number): Promise<void>;
  /** Remove a settled action. */
  settle(seq: number): Promise<void>;
}

/** What a try of one action may do besides running it. */
export interface ActionTry {
  /** Before another try: mark it started again; rejects (nothing may be sent) when the store fails. */
  restart(): Promise<void>;
  /** The answer says nothing was sent: clear the started mark. Never rejects. */
  unsent(): Promise<void>;
  /** Aborted when the sidecar drains: a wait for the connection ends, the action is kept. */
  readonly signal: AbortSignal;
}

/** Execute one raw action as `/v1/actions` would (validation included); may reject. */
export type ExecuteAction = (raw: unknown, attempt: ActionTry) => Promise<unknown>;

/** Thrown by an executor when nothing was sent and the sidecar is stopping: kept for the next start. */
export class ActionDeferred extends Error {
  override readonly name = 'ActionDeferred';
}

/** Pause after the store refused a mark or a removal before trying again, ms. */
const STORE_RETRY_MS = 1_000;

/** Per-session ordered execution of the outbox's actions. */
export class ActionRunner {
  /** One chain per session with actions; each ends when its session has none left. */
  private readonly chains = new Map<string, object>();
  private readonly running = new Set<Promise<void>>();
  /** Aborted at {@link drain}: waits end, actions that met no connection stay stored. */
  private readonly draining = new AbortController();
  private stopped = false;
  private readonly log: Logger;

  constructor(
    private readonly execute: ExecuteAction,
    private readonly outbox: ActionOutbox,
    log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.log = log.child({ component: 'action-runner' });
  }

  /** Sessions with actions still running. */
  get busy(): number {
    return this.chains.size;
  }

  /** Run every session's stored actions (at start: those an earlier life left). */
  resume(): void {
    for (const sessionKey of this.outbox.sessions()) this.kick(sessionKey);
  }

  /** Run `sessionKey`'s stored actions, unless its chain is running already. Returns at once. */
  kick(sessionKey: string): void {
    if (this.stopped || this.chains.has(sessionKey)) return;
    const token = {};
    this.chains.set(sessionKey, token);
    const chain = this.runSession(sessionKey, token).finally(() => {
      if (this.chains.get(sessionKey) === token) this.chains.delete(sessionKey);
      this.running.delete(chain);
    });
    this.running.add(chain);
  }

  /**
   * The sidecar is stopping: a wait for the connection ends and leaves its action stored, as does
   * an action that meets no connection from now on; actions that can go out still do.
   */
  drain(): void {
    this.draining.abort();
  }

  /** Start no more tries (what is stored runs after the next start). */
  stop(): void {
    this.stopped = true;
    this.draining.abort();
  }

  /** Resolve when every chain has ended, or after `budgetMs` (of `meter`'s time when given). */
  async idle(budgetMs: number, meter?: PauseMeter): Promise<void> {
    if (this.running.size === 0) return;
    let bound: Deadline | undefined;
    const timeout = new Promise<void>((resolve) => {
      bound = armWorkBound(systemClock, budgetMs, resolve, meter);
    });
    await Promise.race([Promise.allSettled([...this.running]), timeout]);
    bound?.clear();
  }

  private async runSession(sessionKey: string, token: object): Promise<void> {
    // a turn later: the chain is registered before its first read
    await Promise.resolve();
    while (!this.stopped) {
      const next = this.outbox.head(sessionKey);
      if (!next) {
        // ended in the same turn as the read: an action written after it kicks a new chain
        if (this.chains.get(sessionKey) === token) this.chains.delete(sessionKey);
        return;
      }
      if (!(await this.runOne(next))) return;
    }
  }

  /** Run one action to its end; false when the chain must stop (stopping, or deferred). */
  private async runOne(entry: OutboxAction): Promise<boolean> {
    const fields = { id: entry.deliveryId, index: entry.index, op: opOf(entry.action) };
    if (entry.started) {
      reportError(
        this.log,
        this.metrics,
        'CORE_ERR_DELIVERY_ACTION_AMBIGUOUS',
        'response action ambiguous',
        fields,
      );
      return this.settle(entry.seq);
    }
    if (!(await this.mark(() => this.outbox.start(entry.seq)))) return !this.stopped;
    if (this.stopped) {
      // stopped while the mark was written: nothing was tried, so it runs after the next start
      await this.outbox.unstart(entry.seq).catch((err: unknown) => this.storeFailed(err, 'unstart'));
      return false;
    }
    let storeFailed = false;
    const attempt: ActionTry = {
      signal: this.draining.signal,
      restart: async () => {
        if (!(await this.mark(() => this.outbox.start(entry.seq)))) storeFailed = true;
        if (storeFailed) throw new ActionDeferred('the started mark was not saved');
      },
      unsent: () => this.outbox.unstart(entry.seq).catch((err: unknown) => this.storeFailed(err, 'unstart')),
    };
    try {
      await this.execute(entry.action, attempt);
    } catch (err) {
      // nothing was sent: the action stays stored, for this life (store) or the next (stopping)
      // (a refused mark paused already: the chain reads the action again)
      if (err instanceof ActionDeferred) return storeFailed && !this.stopped;
      reportError(this.log, this.metrics, 'CORE_ERR_DELIVERY_ACTION_FAILED', 'response action failed', {
        ...fields,
        error: errorMessage(err),
      });
    }
    return this.settle(entry.seq);
  }

  /** Apply a mark; false (after a pause) when the store refused it. */
  private async mark(write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (err) {
      this.storeFailed(err, 'start');
      await this.pause();
      return false;
    }
  }

  /** Remove a settled action, retrying while the store refuses; false when stopping first. */
  private async settle(seq: number): Promise<boolean> {
    while (!this.stopped) {
      try {
        await this.outbox.settle(seq);
        return true;
      } catch (err) {
        this.storeFailed(err, 'settle');
        await this.pause();
      }
    }
    return false;
  }

  private storeFailed(err: unknown, step: string): void {
    reportError(this.log, this.metrics, 'CORE_ERR_INBOX_COMMIT_FAILED', 'response action state not saved', {
      step,
      error: errorMessage(err),
    });
  }

  /** Wait before trying the store again; true unless stopped meanwhile. */
  private pause(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(!this.stopped), STORE_RETRY_MS);
      timer.unref();
    });
  }
}

/** An action's op as logs show it (at most 64 characters), if it has a string one. */
export function opOf(action: unknown): string | undefined {
  const op = action && typeof action === 'object' ? (action as { op?: unknown }).op : undefined;
  return typeof op === 'string' ? op.slice(0, 64) : undefined;
}
