/**
 * The piscina pool the plugin pool sends tasks to, and its replacement by a fresh one once one
 * gave up on starting workers (pool-renewal.ts says when; docs/decisions.md, "Worker deaths").
 *
 * The fresh pool was made first and the old one closed after: piscina starts a new pool's first
 * workers in its constructor, while the old pool's workers — the renewal's warm-up worker at least —
 * still held their threads. Under a thread limit with room for one more worker (measured with a
 * real RLIMIT_NPROC, test/core/pool/thread-limit), that start was refused, the fresh pool gave up
 * in turn, and the renewal repeated without end: a pool renewed every few hundred ms, `/readyz`
 * 503 throughout. Now the old pool is closed first (its idle workers end at once, a running task
 * gets the close budget) and the fresh one is made only once its threads have ended; the tasks
 * sent meanwhile wait for it (bounded: the close budget and a second; as many as the queue takes,
 * and the tasks the old pool's close rejected, resent past that bound: plugin-pool.ts).
 */
import type { Piscina } from 'piscina';
import { type Clock, systemClock } from '../di/clock.js';
import type { PoolTask } from './task-protocol.js';

/** A piscina pool of the plugin pool. */
export type TaskPool = Piscina<PoolTask, unknown>;

/** Longest a renewal waits for the old pool's threads past its close budget, ms. */
const CLOSE_SLACK_MS = 1_000;

/** The parts of a replaced piscina pool used here. */
export interface RetiringPool {
  close(options: { force: boolean }): Promise<void>;
}

/**
 * Pools a renewal replaced: each finishes the tasks it runs (up to its close budget), then closes;
 * the tasks still queued there are rejected unstarted, and sent to the fresh pool (plugin-pool.ts).
 */
export class RetiredPools {
  private readonly retired = new WeakSet<RetiringPool>();
  private readonly ended = new WeakSet<RetiringPool>();
  private readonly closing = new Set<Promise<void>>();

  /** Close `pool`, which takes no task from now on; resolves once it has closed. */
  retire(pool: RetiringPool): Promise<void> {
    this.retired.add(pool);
    // forced: piscina's plain close hands its queued tasks to its workers as they free up, which
    // ran them there (hooks and all), cut at the close budget; forced, it rejects them at once
    // (`pool is closed`, unstarted) and lets only the running ones finish
    const closed: Promise<void> = pool
      .close({ force: true })
      .catch(() => undefined)
      .then(() => {
        this.ended.add(pool);
        this.closing.delete(closed);
      });
    this.closing.add(closed);
    return closed;
  }

  /** Was `pool` replaced (it is closing, or closed)? */
  has(pool: RetiringPool): boolean {
    return this.retired.has(pool);
  }

  /** Has `pool`'s close finished (a worker it starts now is one nobody would end)? */
  closed(pool: RetiringPool): boolean {
    return this.ended.has(pool);
  }

  /** Resolves once every replaced pool has closed. */
  async settled(): Promise<void> {
    await Promise.all(this.closing);
  }
}

/** Construction options of {@link PoolHandover}. */
export interface PoolHandoverOptions {
  /** Make a pool (the same options each time: piscina-factory.ts). */
  readonly create: () => TaskPool;
  /** Take in a fresh pool: watch its workers and events (plugin-pool.ts). */
  readonly adopt: (pool: TaskPool) => void;
  /** The pools' close budget, ms: how long a running task may hold up a renewal. */
  readonly closeBudgetMs: number;
  /** Timers; default {@link systemClock}. */
  readonly clock?: Clock;
}

/** The current pool, the ones it replaced, and the wait for a fresh one while they close. */
export class PoolHandover {
  private pool: TaskPool;
  private readonly retired = new RetiredPools();
  /** Set while a renewal closes the old pool: tasks wait for it before taking {@link current}. */
  private hold: Promise<void> | undefined;
  private waitingTasks = 0;
  private closing = false;

  /** @param first the pool made at the start, already taken in */
  constructor(
    first: TaskPool,
    private readonly options: PoolHandoverOptions,
  ) {
    this.pool = first;
  }

  /** The pool tasks go to (while {@link holding}, one closing: wait with {@link settled} first). */
  get current(): TaskPool {
    return this.pool;
  }

  /** Tasks waiting in {@link settled} for the fresh pool: queued, though in no piscina queue. */
  get waiting(): number {
    return this.waitingTasks;
  }

  /** Is a renewal closing the old pool (a fresh one is not made yet)? */
  get holding(): boolean {
    return this.hold !== undefined;
  }

  /** Was `pool` replaced (closing, or closed)? */
  replaced(pool: RetiringPool): boolean {
    return this.retired.has(pool);
  }

  /** Has replaced `pool` closed (a worker it starts now is one nobody would end)? */
  closed(pool: RetiringPool): boolean {
    return this.retired.closed(pool);
  }

  /**
   * Wait until a renewal under way has made its fresh pool; false at once when `limit` tasks
   * wait already (the queue bound: piscina's queue of the closing pool is emptied by its close;
   * a task resent from it, accepted there, passes no limit and still counts here). `counted`
   * false: not counted in {@link waiting} (a warm-up, counted by its own mark: plugin-pool.ts).
   */
  async settled(limit = Number.POSITIVE_INFINITY, counted = true): Promise<boolean> {
    if (this.hold === undefined) return true;
    if (this.waitingTasks >= limit) return false;
    const count = counted ? 1 : 0;
    this.waitingTasks += count;
    try {
      await this.hold;
    } finally {
      this.waitingTasks -= count;
    }
    return true;
  }

  /**
   * Replace the current pool: close it first, so that its threads are free for the fresh one's
   * first workers (at most the close budget and a second: then the fresh one is made anyway),
   * then make the fresh one. Resolves once made (or not, as closing); one renewal at a time.
   */
  renew(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.hold ??= this.handOver().finally(() => {
      this.hold = undefined;
    });
    return this.hold;
  }

  /** Close the current pool (unless a renewal closes it already) and every replaced one. */
  async close(): Promise<void> {
    this.closing = true;
    const current = this.retired.has(this.pool) ? undefined : this.pool.close({ force: true });
    await Promise.all([current, this.retired.settled()]);
  }

  private async handOver(): Promise<void> {
    const clock = this.options.clock ?? systemClock;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, this.options.closeBudgetMs + CLOSE_SLACK_MS);
    });
    // its close rejects the tasks still queued there, unstarted: `run` sends them on, to wait here
    await Promise.race([this.retired.retire(this.pool), bound]);
    clock.clearTimeout(timer);
    if (this.closing) return;
    const fresh = this.options.create();
    this.options.adopt(fresh);
    this.pool = fresh;
  }
}
