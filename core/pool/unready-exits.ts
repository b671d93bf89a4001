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
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger.js';
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
  /** A thread of `pool` exited by itself, with no error, before it was ready: a failed start. */
  readonly onExit: (pool: P, code: number) => void;
  /** piscina ended a thread of `pool` before it was ready: it replaces no worker there any more. */
  readonly onEnded: (pool: P) => void;
}

interface Watched {
  ready: boolean;
  /** piscina ended it (`workerDestroy`, the thread still running). */
  ended: boolean;
}

/** Watches the pool's threads for ends before they are ready, which piscina keeps silent. */
export class UnreadyExits<P extends UnreadyPool> {
  private readonly watched = new Map<number, Watched>();
  private readonly stop: () => void;
  private closed = false;

  constructor(private readonly options: UnreadyExitsOptions<P>) {
    this.stop = onPiscinaThread((thread) => this.made(thread));
  }

  /** Watch `pool`'s workers (the first pool, and each a renewal makes: plugin-pool.ts). */
  watch(pool: P): void {
    pool.on('workerCreate', (worker) => {
      const watched = this.watched.get(worker.id);
      if (watched) watched.ready = true;
    });
    pool.on('workerDestroy', (worker) => {
      const watched = this.watched.get(worker.id);
      if (watched) watched.ended = true;
    });
  }

  /** Watch no more. */
  close(): void {
    this.closed = true;
    this.stop();
  }

  private made(thread: Worker): void {
    // kept: a thread's id reads -1 once it has exited
    const id = thread.threadId;
    const watched: Watched = { ready: false, ended: false };
    let pool: P | undefined;
    let failed = false;
    // before piscina's own `workerCreate` of a new pool's first workers (queued after this)
    queueMicrotask(() => {
      const current = this.options.current();
      if (!current.threads.includes(thread)) return;
      pool = current;
      this.watched.set(id, watched);
    });
    // attached before piscina's listeners: they run first, as the thread is made
    thread.once('error', () => {
      failed = true;
    });
    thread.once('exit', (code: number) => {
      this.watched.delete(id);
      if (this.closed || pool === undefined || watched.ready || failed || this.options.closing(pool)) return;
      if (!watched.ended) this.options.onExit(pool, code);
      else {
        // `log` is the pool's (component plugin-pool): a field of that name again is a duplicate key
        this.options.log.info('plugin worker ended before it was ready; the worker pool will be renewed');
        this.options.onEnded(pool);
      }
    });
  }
}
