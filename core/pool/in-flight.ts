/**
 * The plugin pool's tasks in flight, each with its abort (plugin-pool.ts), and the ones it aborted
 * because no worker could start to run them (worker-starts.ts, a stall).
 */
import type { SlotLease } from './progress-slots.js';
import type { TaskAbort } from './task-abort.js';

/** Tasks in flight, by their progress slot. */
export class InFlight {
  private readonly tasks = new Map<SlotLease, TaskAbort>();
  private readonly unstartable = new WeakSet<TaskAbort>();
  /** The renewal's checks under way (pool-renewal.ts), each aborted as a task waiting would be. */
  private readonly checks = new Set<AbortController>();

  /** `lease`'s task is sent, with `abort`. */
  add(lease: SlotLease, abort: TaskAbort): void {
    this.tasks.set(lease, abort);
  }

  /** `lease`'s task has settled. */
  delete(lease: SlotLease): void {
    this.tasks.delete(lease);
  }

  /**
   * No worker runs and none could start: abort every task no worker has started (`started` says
   * which have), since piscina starts a worker only for tasks queued later (they would wait out
   * their budgets).
   */
  failUnstarted(started: (lease: SlotLease) => boolean): void {
    for (const check of this.checks) check.abort(new Error('no plugin worker could start'));
    for (const [lease, abort] of this.tasks) {
      if (started(lease)) continue;
      this.unstartable.add(abort);
      abort.abort();
    }
  }

  /**
   * Run `check` (a renewal's warm-up task) with a signal {@link failUnstarted} aborts: it waits
   * for a worker of the pool given up on, which may fail to start as well.
   */
  async unlessStalled<T>(check: (stalled: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.checks.add(controller);
    try {
      return await check(controller.signal);
    } finally {
      this.checks.delete(controller);
    }
  }

  /** Was the task of `abort` aborted by {@link failUnstarted}? */
  unstarted(abort: TaskAbort): boolean {
    return this.unstartable.has(abort);
  }
}
