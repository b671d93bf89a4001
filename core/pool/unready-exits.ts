/**
 * piscina threads that end before piscina has them ready (docs/decisions.md, "Worker deaths").
 * piscina counts a worker ready at its ready message, sent once the worker has loaded its entry (a
 * new pool's first workers count ready at once). One that ends before — its thread exits while it
 * loads its entry, or piscina ends it (a task it had been handed was aborted) — makes piscina
 * replace no worker again for the life of the pool (`workerFailsDuringBootstrap`, private), and
 * an exit says nothing: no `error` event, only the tasks handed to it are rejected (`worker
 * exited with code`). Measured with a real pool (test/core/pool/unready-exits): one worker, its
 * replacement's thread exiting before it was ready, the pool kept no worker, was never renewed,
 * and a task queued meanwhile waited its whole queue budget to fail as saturated. piscina ended
 * an unready worker when a task it had handed that worker was aborted; the pool's balancer now
 * hands tasks to ready workers only (ready-dispatch.ts), so that end is kept here as a guard only
 * (a piscina that ends one some other way leaves a pool that replaces no worker).
 *
 * A thread's `error` before it is ready is piscina's `error` or its task's rejection, reported by
 * worker-starts.ts; this watches the other ends. piscina's threads are seen as they are made
 * (thread-refusals.ts `onPiscinaThread`) and taken as the current pool's once it holds them (a
 * microtask later: piscina adds a worker right after making its thread); that pool's
 * `workerCreate` marks one ready, its `workerDestroy` one piscina ended.
 *
 * A new pool's first workers are ready to piscina at once, before their entry has loaded, and are
 * handed tasks then: one whose thread exits while it loads its entry (beside a worker that runs)
 * had its task fail as a death while importing the plugins (`CORE_ERR_PLUGIN_WORKER_BOOT_FAILED`,
 * advice to disable a plugin) and its death counted `boot`. A thread's entry has loaded once it
 * posts piscina's ready message; one that exits before is a failed start whatever piscina counts
 * (piscina replaces such a first worker itself: no renewal), and its tasks fail as its start.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger.js';
import { hasLoaded } from './entry-loads.js';
import { onPiscinaThread } from './thread-refusals.js';

/** The parts of a piscina pool watched. */
export interface UnreadyPool {
  on(event: 'workerCreate' | 'workerDestroy', listener: (worker: { readonly id: number }) => void): unknown;
  readonly threads: readonly Worker[];
}

/** Construction options of {@link UnreadyExits}. */
export interface UnreadyExitsOptions<P extends UnreadyPool> {
  /** The pool's logger (its component already bound: plugin-pool.ts). */
  readonly log: Logger;
  /** The pool new workers start in (a renewal's fresh one once it is made). */
  readonly current: () => P;
  /** Is `pool` closing (its workers end on purpose; a closing pool is not renewed)? */
  readonly closing: (pool: P) => boolean;
  /**
   * A thread of `pool` exited by itself, with no error, before it was ready or before its entry
   * loaded: a failed start; `replaced` when piscina counted it ready (a new pool's first worker),
   * and so starts its replacement itself.
   */
  readonly onExit: (pool: P, code: number, replaced: boolean) => void;
  /** piscina ended a thread of `pool` before it was ready: it replaces no worker there any more. */
  readonly onEnded: (pool: P) => void;
}

/** Most ids kept of threads that exited while loading their entry (their tasks read them once). */
const MAX_EXITED = 64;

interface Watched {
  /** The thread (its entry's load is read from entry-loads.ts, whatever piscina counts). */
  readonly thread: Worker;
  ready: boolean;
  /** piscina ended it (`workerDestroy`, the thread still running). */
  ended: boolean;
}

/** A thread's ends, as one pool's watch reads them. */
interface ThreadWatch {
  readonly onError: () => void;
  readonly onExit: (code: number) => void;
}

/** A pool's offer of a thread just made: its watch, taken back by `drop` once it is not that pool's. */
type Offer = (thread: Worker, drop: (watch: ThreadWatch) => void) => ThreadWatch;

/** The open pools' offers; each piscina thread made in the process is offered to them all. */
const offers = new Set<Offer>();

onPiscinaThread((thread) => {
  if (offers.size === 0) return;
  const watches = new Set<ThreadWatch>();
  const onError = (): void => {
    for (const watch of watches) watch.onError();
  };
  const onExit = (code: number): void => {
    for (const watch of watches) watch.onExit(code);
  };
  const drop = (watch: ThreadWatch): void => {
    watches.delete(watch);
    if (watches.size > 0) return;
    thread.off('error', onError);
    thread.off('exit', onExit);
  };
  for (const offer of offers) watches.add(offer(thread, drop));
  // one pair of listeners per thread however many pools the process holds, and none on a thread
  // no pool watches: each pool's own pair made ten pools' threads carry twenty, and Node printed
  // "Possible EventEmitter memory leak detected"
  thread.once('error', onError);
  thread.once('exit', onExit);
});

/** Watches the pool's threads for ends before they are ready, which piscina keeps silent. */
export class UnreadyExits<P extends UnreadyPool> {
  private readonly watched = new Map<number, Watched>();
  /** Ids of the pools' threads that exited before their entry loaded, the latest {@link MAX_EXITED}. */
  private readonly exitedLoading = new Set<number>();
  private readonly seen = new WeakSet<Worker>();
  private readonly offer: Offer = (thread, drop) => this.made(thread, undefined, drop);
  private closed = false;

  constructor(private readonly options: UnreadyExitsOptions<P>) {
    offers.add(this.offer);
  }

  /** Watch `pool`'s workers (the first pool, and each a renewal makes: plugin-pool.ts). */
  watch(pool: P): void {
    // the first pool's first threads were made before this watched piscina's, in the same turn:
    // piscina counts them ready at once (their `workerCreate` comes before a microtask of ours)
    for (const thread of pool.threads) {
      // after piscina's listeners: only the order of this pair against each other matters here
      if (this.seen.has(thread)) continue;
      const watch = this.made(thread, pool);
      thread.once('error', watch.onError);
      thread.once('exit', watch.onExit);
    }
    pool.on('workerCreate', (worker) => {
      const watched = this.watched.get(worker.id);
      if (watched) watched.ready = true;
    });
    pool.on('workerDestroy', (worker) => {
      const watched = this.watched.get(worker.id);
      if (watched) watched.ended = true;
    });
  }

  /**
   * Is thread `id` one of the pools' that is loading its entry, or exited before it had? A task
   * handed to it that its exit rejected never reached the worker's code: a failed start.
   */
  loading(id: number | undefined): boolean {
    if (id === undefined) return false;
    const watched = this.watched.get(id);
    return watched === undefined ? this.exitedLoading.has(id) : !hasLoaded(watched.thread);
  }

  /** Watch no more. */
  close(): void {
    this.closed = true;
    offers.delete(this.offer);
  }

  /**
   * The watch of `thread`; `first`: a thread of that pool made before it was watched (one of its
   * first); otherwise `drop` takes the watch back once the thread is found another pool's.
   */
  private made(thread: Worker, first?: P, drop?: (watch: ThreadWatch) => void): ThreadWatch {
    this.seen.add(thread);
    // kept: a thread's id reads -1 once it has exited
    const id = thread.threadId;
    const watched: Watched = { thread, ready: first !== undefined, ended: false };
    let pool: P | undefined = first;
    let failed = false;
    const watch: ThreadWatch = {
      onError: () => {
        failed = true;
      },
      onExit: (code) => this.ended(id, watched, pool, failed, code),
    };
    if (first) this.watched.set(id, watched);
    // before piscina's own `workerCreate` of a new pool's first workers (queued after this)
    else
      queueMicrotask(() => {
        const current = this.options.current();
        // another pool's thread: nothing here reads its end
        if (!current.threads.includes(thread)) return drop?.(watch);
        pool = current;
        this.watched.set(id, watched);
      });
    return watch;
  }

  /**
   * Thread `id` (`watched`'s) exited with `code`; `pool`: undefined while it is not known to be
   * this pool's; `failed`: it emitted an error first.
   */
  private ended(id: number, watched: Watched, pool: P | undefined, failed: boolean, code: number): void {
    // piscina's ready message, seen from the thread's start (entry-loads.ts): a first worker
    // was counted ready before it
    const loaded = hasLoaded(watched.thread);
    this.watched.delete(id);
    if (pool !== undefined && !loaded) this.exited(id);
    if (this.closed || pool === undefined || failed || this.options.closing(pool)) return;
    if (watched.ready) {
      // one piscina ended (a task's timeout) is no exit of its own
      if (!loaded && !watched.ended) this.options.onExit(pool, code, true);
    } else if (!watched.ended) this.options.onExit(pool, code, false);
    else {
      // `log` is the pool's (component plugin-pool): a field of that name again is a duplicate key
      this.options.log.info('plugin worker ended before it was ready; the worker pool will be renewed');
      this.options.onEnded(pool);
    }
  }

  /** Thread `id` exited before its entry loaded: kept for its tasks' rejections. */
  private exited(id: number): void {
    this.exitedLoading.add(id);
    for (const old of this.exitedLoading) {
      if (this.exitedLoading.size <= MAX_EXITED) break;
      this.exitedLoading.delete(old);
    }
  }
}
