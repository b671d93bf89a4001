/**
 * Pool workers that fail before piscina has them ready (docs/decisions.md, "Worker deaths"): the
 * entry itself fails to load (a running install that lost its files), or the thread cannot start
 * (`ERR_WORKER_INIT_FAILED`: a thread or memory limit of the host). No plugin is involved and the
 * worker is never watched (worker-deaths.ts sees a worker from piscina's `workerCreate`, its
 * ready, on). piscina then stops replacing workers (`workerFailsDuringBootstrap`, for the life of
 * the pool) and starts one per task queued afterwards only: the tasks already queued waited their
 * whole queue budget to fail as saturated, each failure was logged at once with no bound (`idle
 * plugin worker failed`), and nothing said that the pool had no worker.
 *
 * Now such a failure is counted (`relay_pool_worker_deaths_total{during="start"}`), logged at a
 * bounded rate (`CORE_ERR_PLUGIN_WORKER_START_FAILED`), the stall is shown
 * (`relay_pool_worker_start_failing`, the status, `/readyz`) until a worker starts again, and the
 * tasks waiting for a worker fail at once, transiently (the pool's `onStall`).
 */
import { type ErrorData, errorMessage, scrubUrls } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import { ThrottledReport } from '../log/throttled-report.js';
import type { Metrics } from '../metrics/metrics.js';
import { queueRefused, threadExited } from './classify-failure.js';
import { monotonicMs } from './progress-slots.js';

const CODE = 'CORE_ERR_PLUGIN_WORKER_START_FAILED';

/** The failure of a task that waited for a worker while none could start. */
export const START_FAILED: ErrorData = {
  code: CODE,
  message: 'no plugin worker could start (see the pool\'s "plugin worker failed to start" line)',
};

/** Least time between two lines about workers failing to start, ms. */
const START_LOG_INTERVAL_MS = 60_000;

const ACTION =
  "a pool worker could not even load the sidecar's own worker code, so no plugin runs in it: if reason names a " +
  'missing module, the install changed under the running sidecar (reinstall it, then restart); if it names ' +
  'ERR_WORKER_INIT_FAILED or memory, the host is out of threads or memory (raise its limits, lower ' +
  'pool.maxThreads, restart); if it says the thread exited before it was ready, something ended the thread ' +
  'while it loaded that code (the pool renews itself; if it keeps failing, check the host and restart)';

/** piscina's rejection of a task whose worker it is ending: no failure to start. */
const TERMINATING = /Terminating worker thread/;

/** piscina's (5.3) `error` when running tasks outlast a close's budget (`Errors.CloseTimeout`). */
const CLOSE_TIMEOUT = /^Close operation timed out$/;

/** The pool's parts used here. */
export interface StartingPool {
  on(event: 'error', listener: (err: unknown) => void): unknown;
  on(event: 'workerCreate', listener: (worker: { readonly id: number }) => void): unknown;
}

/** Construction options of {@link WorkerStarts}. */
export interface WorkerStartsOptions {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Is a failure already reported as a watched worker's death (worker-deaths.ts)? */
  readonly reported: (err: unknown) => boolean;
  /**
   * Is a failure that of a thread still loading its entry, which piscina counted ready (a new
   * pool's first worker) and so replaces itself (worker-deaths.ts)?
   */
  readonly loadFailure?: (err: unknown) => boolean;
  /** Is the pool closing (piscina's `error` then says its close ran out of budget)? */
  readonly closing: () => boolean;
  /** A worker of `pool` failed to start: piscina will replace none there (pool-renewal.ts). */
  readonly onFailed?: (pool: StartingPool) => void;
  /**
   * Did thread `id` exit before its entry loaded (unready-exits.ts)? A task it was handed then
   * failed with its start, which is reported as such there.
   */
  readonly loading?: (id: number | undefined) => boolean;
  /** Workers running now (piscina had them ready, and nothing is ending them). */
  readonly running: () => number;
  /** A worker failed to start while none ran: fail the tasks waiting for one (none would start them). */
  readonly onStall: () => void;
  /** The monotonic clock, ms; default {@link monotonicMs}. */
  readonly now?: () => number;
}

/** Watches a piscina pool for workers failing before they are ready; owns its `error` event. */
export class WorkerStarts {
  private readonly seen = new WeakSet<object>();
  /** Each watched pool's `closing` (its close, or a renewal replaced it). */
  private readonly closings = new WeakMap<object, () => boolean>();
  private readonly report: ThrottledReport<string>;
  private failing = false;

  constructor(
    pool: StartingPool,
    private readonly options: WorkerStartsOptions,
  ) {
    const { log, metrics } = options;
    this.report = new ThrottledReport({
      intervalMs: START_LOG_INTERVAL_MS,
      now: options.now ?? monotonicMs,
      first: (reason) =>
        reportError(log, metrics, CODE, 'plugin worker failed to start', { reason, action: ACTION }, 'error'),
      repeated: (count, reason) =>
        reportError(log, metrics, CODE, 'plugin workers failed to start', { count, reason }, 'error'),
    });
    this.watch(pool, options.closing);
  }

  /**
   * Watch `pool` too (one that replaced a pool that gave up: plugin-pool.ts); `closing` says
   * whether that pool is closing.
   */
  watch(pool: StartingPool, closing: () => boolean): void {
    this.closings.set(pool, closing);
    // without a listener an EventEmitter 'error' would crash the process
    pool.on('error', (err) => {
      // a watched worker's failure with no task: reported by worker-deaths.ts, closing or not
      if (this.options.reported(err)) return;
      if (closing()) {
        // every error of a closing pool read as its close timeout: an idle worker of a replaced
        // pool dying during the close was logged "close budget exceeded", beside its death's line
        const reason = scrubUrls(errorMessage(err)).slice(0, 500);
        if (CLOSE_TIMEOUT.test(reason))
          this.options.log.info({ reason }, 'worker pool close budget exceeded; workers terminated');
        // one that failed before it was ready: it would have served no task, and a closing
        // pool is not renewed
        else this.options.log.info({ reason }, 'plugin worker of a closing pool failed');
        return;
      }
      // a first worker whose entry threw: piscina starts its replacement itself (as for its exit)
      if (this.options.loadFailure?.(err)) this.counted(err);
      else this.failed(err, pool);
    });
    // a refused thread's worker (thread-refusals.ts, a negative id) is made ready by piscina when it is one
    // of a new pool's first: it started nothing
    pool.on('workerCreate', (worker) => {
      if (worker.id >= 0) this.started();
    });
  }

  /** True from a worker's failure to start while none ran until a worker starts. */
  get stalled(): boolean {
    return this.failing;
  }

  /**
   * Take a task's rejection that never started: true (and reported) when it is a worker's
   * failure to start. piscina counts a new pool's first workers ready at once, so a task can go to
   * one still loading its entry (ready-dispatch.ts), and then rejects it with that worker's error
   * rather than emitting `error`. `pool` is the one it was sent to, `worker` the thread id of the
   * worker it was handed to (if it was).
   *
   * A closing pool's rejections are never a failed start: its workers end on purpose, and a
   * failure there was taken for one of the pool a renewal was replacing (the renewal ran again,
   * the pool could read failing) or of the plugin pool closing; its `error` says so already.
   */
  rejected(err: unknown, pool: StartingPool, worker?: number): boolean {
    if (!(err instanceof Error) || err.name === 'AbortError') return false;
    if (this.closings.get(pool)?.()) return false;
    // a thread that exited before its entry loaded (a new pool's first worker, handed tasks at
    // once): its start failed, counted and logged as such by unready-exits.ts, not here again
    if (threadExited(err)) return this.options.loading?.(worker) ?? false;
    // thrown on this thread as piscina posted the task (data structured clone refuses): no worker
    // failed, and taking it for one logged a failed start (reinstall, restart) and could stall
    if (err instanceof DOMException) return false;
    // a first worker whose entry threw as it loaded (its exit is the case above): counted and
    // logged only, piscina replaces it; its task failed with the start whether or not counted now
    if (this.options.loadFailure?.(err)) {
      this.counted(err);
      return true;
    }
    if (queueRefused(err.message) || TERMINATING.test(err.message) || this.options.reported(err))
      return false;
    this.failed(err, pool);
    return true;
  }

  /**
   * A thread of `pool` exited, with no error, before piscina had it ready or before its entry
   * loaded (unready-exits.ts): a failed start, which piscina keeps silent. `replaced`: piscina
   * counted it ready (a new pool's first worker) and starts its replacement itself, so it is
   * counted and logged only: no renewal, and no stall (that replacement may well start).
   */
  exitedUnready(pool: StartingPool, code: number, replaced = false): void {
    const err = new Error(`worker thread exited with code ${code} before it was ready`);
    if (replaced) this.counted(err);
    else this.failed(err, pool);
  }

  /** Log what is still unlogged, and stop. */
  close(): void {
    this.report.close();
  }

  /**
   * A worker failed before it was ready: counted and reported once per failure; a stall only
   * while no worker runs. A spare that fails beside a running worker stalls nothing, and kept as
   * one it outlived that worker: once it ended (piscina replaces none after such a failure), the
   * pool read failing, `/readyz` 503, though no start had failed since a worker last ran; the next
   * task's own start tells (it fails here again, with none running, if starts still fail).
   */
  private failed(err: unknown, pool: StartingPool): void {
    if (!this.counted(err)) return;
    const { metrics } = this.options;
    this.options.onFailed?.(pool);
    if (this.options.running() > 0) return;
    this.failing = true;
    metrics.poolWorkerStartFailing.set(1);
    this.options.onStall();
  }

  /** Count and report a failed start once per failure; false if it was already. */
  private counted(err: unknown): boolean {
    if (typeof err === 'object' && err !== null) {
      if (this.seen.has(err)) return false;
      this.seen.add(err);
    }
    this.options.metrics.poolWorkerDeaths.inc({ during: 'start' });
    // as a stray error's reason: a URL in an error may carry a credential
    this.report.add(scrubUrls(errorMessage(err)).slice(0, 500));
    return true;
  }

  private started(): void {
    if (!this.failing) return;
    this.failing = false;
    this.options.metrics.poolWorkerStartFailing.set(0);
    this.options.log.info('plugin worker started again');
  }
}
