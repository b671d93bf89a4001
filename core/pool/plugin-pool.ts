/**
 * The one piscina pool that runs all plugin code (spec/plugins.md, "Isolation"). `run` never
 * rejects: a hook failure, a timeout (the worker is terminated), a dead worker and a full queue
 * all resolve to a {@link TaskFailure} naming the chain position that was running.
 */
import type { ErrorData } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { classifyFailure, exitFailure, threadExited } from './classify-failure.js';
import { InFlight } from './in-flight.js';
import { createPiscina } from './piscina-factory.js';
import { PoolHandover } from './pool-handover.js';
import {
  type BatchItem,
  DEFAULT_CLOSE_BUDGET_MS,
  type PluginPoolOptions,
  type PoolStats,
} from './pool-options.js';
import { DEFAULT_RENEW_DELAYS, PoolRenewal, RENEW_WARM_MS } from './pool-renewal.js';
import { warmWorkers } from './pool-warm.js';
import { PoolWatch } from './pool-watch.js';
import { ProgressSlots, type SlotProgress } from './progress-slots.js';
import { WaitingTasks, withWaiting } from './ready-dispatch.js';
import { TaskAbort } from './task-abort.js';
import type { PoolTask, TaskFailure, TaskReply, WarmValue } from './task-protocol.js';
import { PauseLog, TaskWatchdog } from './task-watchdog.js';
import { START_FAILED } from './worker-starts.js';

export { WORKER_ENTRY } from './piscina-factory.js';

const SATURATED: ErrorData = {
  code: 'CORE_ERR_PLUGIN_POOL_SATURATED',
  message: 'the worker pool queue is full',
};
const CLOSED: ErrorData = { code: 'CORE_ERR_PLUGIN_POOL_CLOSED', message: 'the worker pool is closed' };

/** An attempt's task was queued in a pool a renewal closed, unstarted: send it again, once. */
const RESEND = { resend: true } as const;
type Attempt = { replies: TaskReply[] } | { failedAt: SlotProgress; error: ErrorData };

export type { BatchItem, PluginPoolOptions, PoolStats } from './pool-options.js';
export { DEFAULT_CLOSE_BUDGET_MS };

/** The plugin worker pool. */
export class PluginPool {
  /** The pool tasks are sent to: replaced when one gave up on starting workers (pool-renewal.ts). */
  private readonly pools: PoolHandover;
  private readonly renewal: PoolRenewal;
  private readonly options: PluginPoolOptions;
  private readonly slots: ProgressSlots;
  /** What watches its piscina pools' workers: deaths, failed starts, stray errors, refusals. */
  private readonly watch: PoolWatch;
  /** The tasks in flight, by their slot, each with its abort. */
  private readonly inFlight = new InFlight();
  /** The tasks sent to piscina that no worker has taken yet (ready-dispatch.ts). */
  private readonly waiting = new WaitingTasks(() => this.showQueue());
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly closeBudgetMs: number;
  private completed = 0;
  private failed = 0;
  private closing: Promise<void> | undefined;
  /** Set once {@link close} has finished: no worker may run after it. */
  private closed = false;
  private readonly pauses: PauseLog;

  constructor(options: PluginPoolOptions) {
    this.options = options;
    this.log = options.log.child({ component: 'plugin-pool' });
    this.pauses = new PauseLog(this.log);
    this.metrics = options.metrics;
    this.closeBudgetMs = options.closeBudgetMs ?? DEFAULT_CLOSE_BUDGET_MS;
    // every task in flight holds a slot: running (≤ maxThreads, twice while replacements boot)
    // plus queued (≤ maxQueue, and as many again resent from a renewal's old pool, which the
    // bound does not refuse); running out of slots is treated as saturation
    this.slots = new ProgressSlots(2 * options.pool.maxQueue + 2 * options.pool.maxThreads + 8);
    const first = createPiscina(options, this.slots, this.closeBudgetMs);
    this.pools = new PoolHandover(first, {
      create: () => createPiscina(options, this.slots, this.closeBudgetMs),
      adopt: (fresh) => this.watch.watch(fresh),
      closeBudgetMs: this.closeBudgetMs,
    });
    // a pool in which a worker failed to start replaces none again: renewed once threads start
    this.renewal = new PoolRenewal({
      log: this.log,
      delays: options.renewDelays ?? DEFAULT_RENEW_DELAYS,
      // the fresh pool is made once the old one has closed (pool-handover.ts)
      renew: () => this.pools.renew(),
      // a worker of the pool given up on that fails to start fails it at once, not at its deadline
      warm: () =>
        this.inFlight.unlessStalled((stalled) => this.warm(1, options.renewWarmMs ?? RENEW_WARM_MS, stalled)),
    });
    this.watch = new PoolWatch(first, {
      log: this.log,
      metrics: this.metrics,
      plugins: options.worker.plugins.map((p) => p.name),
      pools: this.pools,
      renewal: this.renewal,
      closing: () => this.closing !== undefined,
      closed: () => this.closed,
      onStall: () => this.failUnstarted(),
    });
  }

  /**
   * Run a batch of chains in one worker; one reply per item, in order. `budgets[i]` of an item is
   * the timeout (ms) of its chain position i, counted from when that plugin starts; past it the
   * task is aborted and piscina terminates the worker (a replacement is started). Only the item
   * that was running fails; the other items of the batch are run again in a new task (hooks are
   * stateless per call, so a repeat is harmless).
   */
  async run(items: readonly BatchItem[]): Promise<TaskReply[]> {
    const first = await this.attempt(items);
    // sent again only once its first try has given its slot back; a resend is not resent
    const attempt = 'resend' in first ? await this.attempt(items, true) : first;
    if (!('failedAt' in attempt)) return attempt.replies;
    const { failedAt, error } = attempt;
    const others = items.filter((_, i) => i !== failedAt.item);
    const rerun = others.length > 0 ? await this.run(others) : [];
    let next = 0;
    return items.map((_, i) =>
      i === failedAt.item ? this.failure(error, failedAt.position) : (rerun[next++] as TaskReply),
    );
  }

  private attempt(items: readonly BatchItem[], resent: true): Promise<Attempt>;
  private attempt(items: readonly BatchItem[]): Promise<Attempt | typeof RESEND>;
  private async attempt(items: readonly BatchItem[], resent = false): Promise<Attempt | typeof RESEND> {
    // a task resent from a renewal's old pool was accepted there: the queue bound is for new tasks
    // only, else those sent as the renewal began took its places first and it failed saturated
    const limit = resent ? Number.POSITIVE_INFINITY : this.options.pool.maxQueue;
    // a renewal closing the old pool: wait for the fresh one (bounded), as many as the queue takes
    if (this.pools.holding) {
      const settled = this.pools.settled(limit);
      this.showQueue();
      const fresh = await settled;
      this.showQueue();
      if (!fresh) return this.failAll(items, SATURATED);
    }
    if (this.closing) return this.failAll(items, CLOSED);
    const piscina = this.pools.current;
    // bound the queue ourselves, by the tasks that really wait: piscina's `queueSize` takes one off
    // per worker starting (and its own limit never applies to tasks with a signal); warm-ups
    // waiting are counted in the status but take no place of the bound
    if (this.pools.waiting + this.waiting.bounded >= limit) return this.failAll(items, SATURATED);
    const lease = this.slots.acquire();
    if (!lease) return this.failAll(items, SATURATED);
    const abort = new TaskAbort();
    this.inFlight.add(lease, abort);
    const waiting = this.waiting.enter();
    // abort one turn later: a worker that already died has its exit event processed first, so
    // the task is reported as a death, not as a timeout (aborting a settled task is a no-op)
    const watchdog = new TaskWatchdog(
      this.slots,
      lease,
      items.map((i) => i.budgets),
      () => setImmediate(() => abort.abort()),
      { onPause: (lateMs) => this.pauses.noticed(lateMs) },
    );
    try {
      const task: PoolTask = {
        k: 'batch',
        slot: lease.slot,
        stamp: lease.stamp,
        items: items.map((i) => i.task),
      };
      const replies = (await piscina.run(withWaiting(task, waiting), { signal: abort })) as TaskReply[];
      this.watch.refusals.receive(replies);
      for (const reply of replies) {
        if (reply.ok) this.completed++;
        else this.failed++;
      }
      return { replies };
    } catch (err) {
      const at = watchdog.expiry?.started ? watchdog.expiry.at : this.slots.progress(lease);
      // waited for a worker while none could start, or sent to one that failed to (never in a
      // closing pool: worker-starts.ts)
      if (
        this.inFlight.unstarted(abort) ||
        (!at && this.watch.starts.rejected(err, piscina, waiting.handedTo))
      )
        return this.failAll(items, START_FAILED);
      // queued in a pool since replaced, which ended it unstarted: no hook ran, sent to the new one
      if (!at && !resent && !watchdog.expiry && this.pools.replaced(piscina) && !this.closing) return RESEND;
      // the worker said why it exits: its item's hook called process.exit (exit-trap.ts); only for
      // a task its thread's exit failed (a note plugin code forged for a task that timed out, its
      // thread ended to confirm it, must not relabel that timeout)
      const exit = this.watch.deaths.takeExit(lease.slot, lease.stamp);
      const exited = watchdog.expiry === undefined && threadExited(err);
      // started past the boot wait while the plugins' import still ran: a death is the boot's,
      // reported once as such (worker-deaths.ts), not this task's hook's as well
      const booting = watchdog.expiry === undefined && this.slots.beforeBoot(lease);
      const error =
        exit !== undefined && at && exited
          ? exitFailure(exit)
          : classifyFailure(err, {
              timedOut: watchdog.expiry !== undefined,
              started: at !== undefined && !booting,
              closing: this.closing !== undefined,
              timeoutMs: watchdog.expiry?.budgetMs ?? 0,
            });
      // never started (queue, closing, a worker lost before it began): every item fails alike
      return at ? { failedAt: at, error } : this.failAll(items, error);
    } finally {
      watchdog.stop();
      waiting.leave();
      this.inFlight.delete(lease);
      this.slots.release(lease);
    }
  }

  /**
   * Load every plugin in the running workers (start-up check); resolves with load failures.
   * `cancel` aborts it early (a renewal's check, when its worker fails to start).
   */
  warm(tasks: number, timeoutMs: number, cancel?: AbortSignal): Promise<WarmValue['failed']> {
    return warmWorkers(this.pools, this.waiting, tasks, timeoutMs, cancel);
  }

  /** Current counters. */
  stats(): PoolStats {
    return {
      threads: this.pools.current.threads.length,
      queued: this.queued(),
      completed: this.completed,
      failed: this.failed,
      startFailing: this.watch.starts.stalled,
    };
  }

  /**
   * Stop: queued tasks fail with `CORE_ERR_PLUGIN_POOL_CLOSED`, running ones get up to the close
   * budget, then workers are terminated. Idempotent; bounded.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const budget = new Promise<void>((resolve) => setTimeout(resolve, this.closeBudgetMs + 1_000).unref());
      this.renewal.close();
      await Promise.race([this.pools.close(), budget]);
      this.closed = true;
      this.watch.close();
      this.metrics.poolQueueDepth.set(0);
    })();
    return this.closing;
  }

  /**
   * A worker failed to start: with none running, the tasks waiting for one fail now, transiently
   * (piscina starts a worker only for tasks queued later, so they would wait out their budgets).
   */
  private failUnstarted(): void {
    if (this.watch.deaths.alive === 0)
      this.inFlight.failUnstarted((lease) => this.slots.progress(lease) !== undefined);
  }

  /**
   * Tasks waiting for a worker: sent and not yet handed to one (ready-dispatch.ts), warm-ups
   * included, and during a renewal those waiting for the fresh pool (the old one closing:
   * pool-handover.ts).
   */
  private queued(): number {
    return this.pools.waiting + this.waiting.size;
  }

  private showQueue(): void {
    this.metrics.poolQueueDepth.set(this.queued());
  }

  private failAll(items: readonly BatchItem[], error: ErrorData): { replies: TaskReply[] } {
    return { replies: items.map(() => this.failure(error, 0)) };
  }

  private failure(error: ErrorData, at: number): TaskFailure {
    this.failed++;
    return { ok: false, at, error };
  }
}
