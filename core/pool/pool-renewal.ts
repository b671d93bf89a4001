/**
 * A piscina pool in which a worker failed to start replaces no worker again, for its life
 * (`workerFailsDuringBootstrap`, private): it starts one per task queued later only, so after a
 * passing thread limit the pool had no worker until traffic came, then ran on cold starts, never
 * kept `pool.minThreads` again, and `/readyz` stayed 503 with no traffic (docs/decisions.md,
 * "Worker deaths"). Now the plugin pool replaces such a piscina pool by a fresh one
 * (plugin-pool.ts) once a worker can start again: {@link PoolRenewal} schedules that after a
 * failed start. It checks with a bare thread first, which costs little and fails the same way
 * while the host refuses threads; then with a task in the pool given up on, which starts a worker
 * for it (its entry loaded, where an install lost its files). The fresh pool's first workers
 * are ones piscina counts ready at once, before their entry loads (a failure of theirs would read
 * as a death during boot): they are started only once a worker did, and only once the old pool's
 * threads have ended (pool-handover.ts).
 *
 * The wait doubles from one attempt to the next; only a worker that imports the plugins in a pool
 * that has not given up sets it back. The warm-up's own worker (in the pool given up on) did too,
 * so a renewal whose fresh pool kept failing was retried every first delay, never backing off.
 */
import { Worker } from 'node:worker_threads';
import { type Clock, systemClock } from '../di/clock.js';
import type { Logger } from '../log/logger.js';

/** Waits before renewing the pool after a failed start: the first, doubled up to the last, ms. */
export interface RenewDelays {
  readonly firstMs: number;
  readonly maxMs: number;
}

/** The default {@link RenewDelays}: 1 s, doubling to 30 s while starts keep failing. */
export const DEFAULT_RENEW_DELAYS: RenewDelays = { firstMs: 1_000, maxMs: 30_000 };

/** Longest the renewal's task in the pool given up on may wait for a worker to start, ms. */
export const RENEW_WARM_MS = 10_000;

/** Longest a probe thread may take to come online, ms; later counts as refused. */
const PROBE_TIMEOUT_MS = 5_000;

/**
 * Can a thread start now? Starts one that runs nothing and ends it; false if the host refuses it
 * (`new Worker` throws, or the thread fails, or it is not online within {@link PROBE_TIMEOUT_MS}).
 */
export function threadStarts(): Promise<boolean> {
  let thread: Worker;
  try {
    // the original class (an ES module import): a refusal throws here, caught
    thread = new Worker('', { eval: true });
  } catch {
    return Promise.resolve(false);
  }
  return new Promise<boolean>((resolve) => {
    const done = (started: boolean) => {
      clearTimeout(timer);
      thread.removeAllListeners();
      // an error after the end is of no interest, but must not be an unhandled 'error' event
      thread.on('error', () => undefined);
      void thread.terminate().then(() => resolve(started));
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS).unref();
    thread.once('online', () => done(true));
    thread.once('error', () => done(false));
    thread.once('exit', () => done(false));
  });
}

/** Construction options of {@link PoolRenewal}. */
export interface PoolRenewalOptions {
  readonly log: Logger;
  readonly delays: RenewDelays;
  /** Replace the piscina pool by a fresh one; resolves once it is made. */
  readonly renew: () => Promise<void> | void;
  /** Can a thread start now; default {@link threadStarts}. */
  readonly probe?: () => Promise<boolean>;
  /** Run a task in the pool given up on (it starts a worker for it); rejects if none started. */
  readonly warm: () => Promise<unknown>;
  /** Timers; default {@link systemClock}. */
  readonly clock?: Clock;
}

/** Renews the pool after a failed worker start, once threads start again, with backoff. */
export class PoolRenewal {
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private closed = false;
  /** Pools in which a worker failed to start: piscina replaces none there, for their life. */
  private readonly gaveUp = new WeakSet<object>();
  /** A renewal is making its fresh pool: a failure meanwhile is that pool's, renewed after. */
  private renewing = false;
  private again = false;
  private readonly clock: Clock;

  constructor(private readonly options: PoolRenewalOptions) {
    this.delayMs = options.delays.firstMs;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * A worker of `pool` failed to start: that pool will replace none; renew it (once, however
   * many fail).
   */
  failed(pool: object): void {
    this.gaveUp.add(pool);
    if (this.closed) return;
    if (this.renewing) this.again = true;
    else this.schedule();
  }

  /**
   * A worker of `pool` imported the plugins: if that pool has not given up, starts work again and
   * the next renewal waits the first delay. A warm-up's worker, in a pool given up on, proves no
   * renewal: the fresh pool made after it may still get no worker.
   */
  booted(pool: object): void {
    if (!this.gaveUp.has(pool)) this.delayMs = this.options.delays.firstMs;
  }

  /** Renew no more. */
  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => void this.attempt(), this.delayMs);
  }

  private async attempt(): Promise<void> {
    const started =
      (await (this.options.probe ?? threadStarts)()) &&
      (await this.options.warm().then(
        () => true,
        () => false,
      ));
    if (this.closed) return;
    // a fresh pool whose starts fail again calls `failed` again: the wait doubles either way,
    // until a worker boots in a pool that has not given up
    this.delayMs = Math.min(this.delayMs * 2, this.options.delays.maxMs);
    if (started) {
      this.options.log.info('plugin worker pool renewed after failed worker starts');
      this.renewing = true;
      try {
        await this.options.renew();
      } finally {
        this.renewing = false;
      }
    }
    // failures during the checks were the old pool's (the checks said whether a worker starts)
    this.timer = undefined;
    if (!started || this.again) this.schedule();
    this.again = false;
  }
}
