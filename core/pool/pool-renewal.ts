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
 * as a death during boot): they are started only once a worker did.
 */
import { Worker } from 'node:worker_threads';
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
  /** Replace the piscina pool by a fresh one. */
  readonly renew: () => void;
  /** Can a thread start now; default {@link threadStarts}. */
  readonly probe?: () => Promise<boolean>;
  /** Run a task in the pool given up on (it starts a worker for it); rejects if none started. */
  readonly warm: () => Promise<unknown>;
}

/** Renews the pool after a failed worker start, once threads start again, with backoff. */
export class PoolRenewal {
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private closed = false;

  constructor(private readonly options: PoolRenewalOptions) {
    this.delayMs = options.delays.firstMs;
  }

  /** A worker failed to start: its pool will replace none; renew it (once, however many fail). */
  failed(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setTimeout(() => void this.attempt(), this.delayMs).unref();
  }

  /** A worker imported the plugins: starts work again, the next renewal waits the first delay. */
  booted(): void {
    this.delayMs = this.options.delays.firstMs;
  }

  /** Renew no more. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async attempt(): Promise<void> {
    const started =
      (await (this.options.probe ?? threadStarts)()) &&
      (await this.options.warm().then(
        () => true,
        () => false,
      ));
    this.timer = undefined;
    if (this.closed) return;
    // a fresh pool whose starts fail again calls `failed` again: the wait doubles either way,
    // until a worker boots
    this.delayMs = Math.min(this.delayMs * 2, this.options.delays.maxMs);
    if (!started) {
      this.failed();
      return;
    }
    this.options.log.info('plugin worker pool renewed after failed worker starts');
    this.options.renew();
  }
}

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

  /** Close `pool`, which takes no task from now on. */
  retire(pool: RetiringPool): void {
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
