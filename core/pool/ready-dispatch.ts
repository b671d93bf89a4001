/**
 * Which worker piscina hands a waiting task to, and how many tasks wait (docs/decisions.md,
 * "Waiting tasks"). Measured with piscina 5.3.2 (test/core/pool/booting-queue):
 * - its balancer is offered every worker when one frees up, those still loading their entry
 *   first: a waiting task went to a spare still loading while the free worker stayed idle, and
 *   waited for that boot (a boot that hung: its whole queue allowance, to fail as saturated);
 * - its `queueSize` takes one off per worker starting, and a task handed to such a worker is in
 *   no queue: `pool.queued` read 0 for tasks waiting on a booting replacement, and the
 *   `pool.maxQueue` check let one more task per starting worker wait.
 * Each pool is made with {@link ReadyWorkers.balancer}, which hands a task only to a worker that
 * is ready (its `workerCreate` seen) and idle; a task waits in piscina's queue until one is (a
 * worker's ready and a task's end both offer the queue again). Each task sent carries a
 * {@link WaitingTask} under piscina's queue-options symbol (public; structured clone leaves a
 * symbol-keyed property behind), which the balancer marks taken: {@link WaitingTasks} counts
 * exactly the tasks sent and not yet handed to a worker that has loaded its entry. A new pool's
 * first workers are ready to piscina before their entry loads: a task handed to one still loading
 * waited uncounted (`pool.maxQueue` 2: three waited, two read), so it stays counted until that
 * worker's ready message (or its end). Warm-ups (a start's plugin check, a renewal's check) carry
 * a mark too, of their own kind: counted as waiting, never in the `pool.maxQueue` bound.
 */
import type { Worker } from 'node:worker_threads';
import { queueOptionsSymbol } from 'piscina';
import { whenLoaded } from './entry-loads.js';

/** A task sent to piscina, counted in its {@link WaitingTasks} until it leaves the wait. */
export class WaitingTask {
  private waiting = true;
  private worker: number | undefined;

  constructor(private readonly left: () => void) {}

  /**
   * The thread id of the worker it was handed to, if any: a rejection is read by what that
   * worker did (a thread that exited before its entry loaded failed to start: unready-exits.ts).
   */
  get handedTo(): number | undefined {
    return this.worker;
  }

  /** Handed to the worker of thread id `worker` (it may wait on while that worker loads its entry). */
  handTo(worker: number): void {
    this.worker = worker;
  }

  /** It left the wait: its worker has it, or it settled without one (aborted, rejected). Idempotent. */
  leave(): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.left();
  }
}

/**
 * What a waiting mark is for: an operator's `task` (its plugins' chains, bounded by
 * `pool.maxQueue`), or a `warm`-up (a start's plugin check, a renewal's check: counted as waiting,
 * never refused nor taking a place of that bound).
 */
export type WaitingKind = 'task' | 'warm';

/** The tasks sent to piscina that no worker has taken yet. */
export class WaitingTasks {
  private count = 0;
  private warmUps = 0;

  /** @param onChange told after each change (the queue-depth gauge is set there) */
  constructor(private readonly onChange: () => void) {}

  /** Tasks waiting, warm-ups included (the status and the queue-depth gauge). */
  get size(): number {
    return this.count;
  }

  /** Operator's tasks waiting: those `pool.maxQueue` bounds (warm-ups left out). */
  get bounded(): number {
    return this.count - this.warmUps;
  }

  /** A task of `kind` is about to be sent: its mark, to be put on it with {@link withWaiting}. */
  enter(kind: WaitingKind = 'task'): WaitingTask {
    const warm = kind === 'warm' ? 1 : 0;
    this.count++;
    this.warmUps += warm;
    this.onChange();
    return new WaitingTask(() => {
      this.count--;
      this.warmUps -= warm;
      this.onChange();
    });
  }
}

/** `task` carrying `mark` where piscina's balancer sees it (its queue options). */
export function withWaiting<T extends object>(task: T, mark: WaitingTask): T {
  return Object.assign(task, { [queueOptionsSymbol]: mark });
}

/** A worker as piscina's balancer is offered it. */
interface OfferedWorker {
  readonly id: number;
  readonly currentUsage: number;
}

/** The parts of a piscina pool watched for its ready workers. */
export interface ReadyPool {
  on(event: 'workerCreate' | 'workerDestroy', listener: (worker: { readonly id: number }) => void): unknown;
  readonly threads: readonly Worker[];
}

/** The ready workers of one piscina pool, and its balancer. */
export class ReadyWorkers {
  /** Thread ids of the workers piscina has said ready (`workerCreate`, emitted before it offers them). */
  private readonly ids = new Set<number>();
  /**
   * Ids of the first workers the host refused (thread-refusals.ts: no thread, an id of their own
   * below -1) not yet ended: piscina counts them ready, and while the pool has no thread at all a
   * task it hands one fails with the refusal, which the start reports (else it would wait for a
   * worker none will start). Beside a thread they are not ready, nor is a refused spare ever (all
   * refused workers read -1 before, and were offered while a refused first one was pending: a
   * task went to the refused first worker, or to a refused spare piscina started for a task left
   * over, failing as a start beside a worker that would have run it: thread-limit-spare test).
   */
  private readonly refused = new Set<number>();
  /** The pool watched: its threads tell whether any worker has one. */
  private pool: ReadyPool | undefined;
  /**
   * The pool's first workers still loading their entry, by thread id, with the mark of the task
   * handed to each (one at a time: a worker runs one task, and finishes none before it loads).
   */
  private readonly loading = new Map<number, WaitingTask | undefined>();

  /** The pool's `loadBalancer`: a ready, idle worker, or none (the task waits for one). */
  readonly balancer = <W extends OfferedWorker>(
    task: { readonly [queueOptionsSymbol]: object | null },
    workers: W[],
  ): W | null => {
    for (const worker of workers) {
      const ready =
        worker.id >= 0 ? this.ids.has(worker.id) : this.refused.has(worker.id) && !this.threaded();
      if (worker.currentUsage !== 0 || !ready) continue;
      const mark = task[queueOptionsSymbol];
      if (!(mark instanceof WaitingTask)) return worker;
      mark.handTo(worker.id);
      // taken by a first worker still loading: it waits on, for that load
      if (this.loading.has(worker.id)) this.loading.set(worker.id, mark);
      else mark.leave();
      return worker;
    }
    return null;
  };

  /**
   * Follow `pool`'s workers; called as it is made. Its first workers are ready to piscina at once,
   * their `workerCreate` a microtask later: a task sent before then would have found no worker.
   */
  watch(pool: ReadyPool): void {
    this.pool = pool;
    for (const thread of pool.threads) {
      if (thread.threadId >= 0) {
        this.ids.add(thread.threadId);
        this.untilLoaded(thread);
      } else {
        const id = thread.threadId;
        this.refused.add(id);
        thread.once('exit', () => this.refused.delete(id));
      }
    }
    pool.on('workerCreate', (worker) => {
      // an exited worker's id reads -1 at its `workerDestroy`: ids gone from the pool drop out here
      const live = new Set(pool.threads.map((thread) => thread.threadId));
      for (const id of this.ids) if (!live.has(id)) this.ids.delete(id);
      if (worker.id >= 0) this.ids.add(worker.id);
    });
    pool.on('workerDestroy', (worker) => {
      this.ids.delete(worker.id);
    });
  }

  /** Does a worker of the pool have a thread (an exited one's id reads -1, a refused one's below)? */
  private threaded(): boolean {
    return this.pool?.threads.some((thread) => thread.threadId >= 0) ?? false;
  }

  /**
   * Follow a first worker until it has loaded its entry (its ready message, which piscina does not
   * wait for) or ended: the task it was handed meanwhile leaves the wait then.
   */
  private untilLoaded(thread: Worker): void {
    const id = thread.threadId;
    this.loading.set(id, undefined);
    let loaded = (): void => undefined;
    const over = (): void => {
      loaded();
      thread.off('exit', over);
      const mark = this.loading.get(id);
      this.loading.delete(id);
      mark?.leave();
    };
    thread.on('exit', over);
    // the one listener of the ready message (entry-loads.ts); never at once: it comes later
    loaded = whenLoaded(thread, over);
  }
}
