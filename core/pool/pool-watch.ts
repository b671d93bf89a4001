/**
 * What watches the plugin pool's piscina pools (plugin-pool.ts), the first and each a renewal
 * makes (pool-renewal.ts): its workers' messages (stray errors, exit notes), their deaths, their
 * store refusals, their failures to start and their ends before they are ready.
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PoolHandover, TaskPool } from './pool-handover.js';
import type { PoolRenewal } from './pool-renewal.js';
import { StoreRefusals } from './store-refusals.js';
import { StrayLog } from './stray-log.js';
import { UnreadyExits } from './unready-exits.js';
import { WorkerDeaths } from './worker-deaths.js';
import { WorkerStarts } from './worker-starts.js';

/** Construction options of {@link PoolWatch}. */
export interface PoolWatchOptions {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The configured plugins' names. */
  readonly plugins: readonly string[];
  readonly pools: PoolHandover;
  readonly renewal: PoolRenewal;
  /** Is the plugin pool closing? */
  readonly closing: () => boolean;
  /** Has the plugin pool's close finished (no worker may run after it)? */
  readonly closed: () => boolean;
  /** A worker failed to start while none ran: fail the tasks waiting for one. */
  readonly onStall: () => void;
}

/** The watchers of the plugin pool's piscina pools. */
export class PoolWatch {
  /** A worker posts its plugins' stray errors (a timer that throws): counted, logged at a bounded rate. */
  readonly strays: StrayLog;
  /**
   * Workers that end with no pool asking (out of memory outside a task, a crash), reported at a
   * bounded rate, a crash loop once; a hook's process.exit is reported by its task.
   */
  readonly deaths: WorkerDeaths;
  /** Store writes refused for their size: counted in the worker, carried by its replies. */
  readonly refusals: StoreRefusals;
  /**
   * piscina emits 'error' for a worker that fails with no task (a watched one is reported by
   * `deaths`, one that failed before it was ready by `starts`) and for a close out of budget.
   */
  readonly starts: WorkerStarts;
  /**
   * piscina says nothing of a thread that exits before it is ready, and replaces none after it;
   * also which threads exited before their entry loaded (a task they had failed to start).
   */
  private readonly unready: UnreadyExits<TaskPool>;

  constructor(
    first: TaskPool,
    private readonly options: PoolWatchOptions,
  ) {
    const { log, metrics, plugins, renewal } = options;
    this.strays = new StrayLog({ log, metrics, plugins });
    this.deaths = new WorkerDeaths(first, {
      log,
      metrics,
      plugins,
      // a failed start, reported as such (unready-exits.ts), not a death while importing the plugins
      loading: (id) => this.unready.loading(id),
      onRefusals: (port) => this.refusals.listen(port),
      onBooted: (pool) => renewal.booted(pool),
    });
    this.refusals = new StoreRefusals({ log, metrics, plugins });
    this.starts = new WorkerStarts(first, {
      log,
      metrics,
      reported: (err) => this.deaths.reports(err),
      loadFailure: (err) => this.deaths.loadFailure(err),
      closing: () => this.closing(first),
      running: () => this.deaths.alive,
      onStall: options.onStall,
      onFailed: (pool) => renewal.failed(pool),
      loading: (id) => this.unready.loading(id),
    });
    this.unready = new UnreadyExits({
      log,
      current: () => options.pools.current,
      closing: (pool) => this.closing(pool),
      onExit: (pool, code, replaced) => this.starts.exitedUnready(pool, code, replaced),
      onEnded: (pool) => renewal.failed(pool),
    });
    this.unready.watch(first);
    this.listen(first);
  }

  /** Watch a renewal's fresh pool as the first one is. */
  watch(fresh: TaskPool): void {
    this.deaths.watch(fresh);
    this.starts.watch(fresh, () => this.closing(fresh));
    this.unready.watch(fresh);
    this.listen(fresh);
  }

  /** Log what is still unlogged, and stop. */
  close(): void {
    this.strays.close();
    this.deaths.close();
    this.starts.close();
    this.unready.close();
    this.refusals.close();
  }

  /** Is `pool` closing: the plugin pool's close, or a renewal replaced it? */
  private closing(pool: TaskPool): boolean {
    return this.options.closing() || this.options.pools.replaced(pool);
  }

  /** Take the messages of `piscina`'s workers, and keep it from starting one once closed. */
  private listen(piscina: TaskPool): void {
    piscina.on('message', (message: unknown) => {
      this.strays.receive(message);
      this.deaths.receive(message);
    });
    // piscina (5.3) forgets that it closed: a worker it ended before (a timeout, a spare) whose exit comes
    // after makes it start a replacement, in a pool nobody closes again (a thread for the process's life)
    piscina.on('workerCreate', () => {
      if (this.options.closed() || this.options.pools.closed(piscina)) void piscina.destroy();
    });
  }
}
