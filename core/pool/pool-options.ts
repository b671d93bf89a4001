/**
 * The shapes `PluginPool` takes and gives (plugin-pool.ts), apart from the pool itself.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RenewDelays } from './pool-renewal.js';
import type { ChainTask, PoolWorkerData } from './task-protocol.js';

/** One chain of a batch and the timeout of each of its positions, ms. */
export interface BatchItem {
  readonly task: ChainTask;
  readonly budgets: readonly number[];
}

/** Default bound of `PluginPool.close`, ms. */
export const DEFAULT_CLOSE_BUDGET_MS = 5_000;

/** Construction options of `PluginPool`. */
export interface PluginPoolOptions {
  /** Threads, queue bound, idle timeout and memory limits. */
  readonly pool: Config['pool'];
  /** Plugins, identities and the store path, sent once to every worker. */
  readonly worker: Omit<
    PoolWorkerData,
    'progress' | 'progressStartedAt' | 'progressBeforeBoot' | 'progressOwner'
  >;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** How long `close()` lets running tasks finish before terminating workers, ms. Default 5 s. */
  readonly closeBudgetMs?: number;
  /** The workers' entry file; default `WORKER_ENTRY` (piscina-factory.ts) (tests load one that fails). */
  readonly entry?: string;
  /** Waits before renewing a pool whose worker failed to start; default 1 s doubling to 30 s (tests shorten them). */
  readonly renewDelays?: RenewDelays;
  /**
   * Longest a renewal's check (a task in the pool given up on) waits for a worker, ms; default
   * `RENEW_WARM_MS` (pool-renewal.ts), 10 s (tests lengthen it: a worker that fails to start
   * must end the check at once, not at this deadline).
   */
  readonly renewWarmMs?: number;
}

/** Pool counters for `/v1/status`. `completed` counts tasks that produced a reply; `failed` the rest. */
export interface PoolStats {
  readonly threads: number;
  readonly queued: number;
  readonly completed: number;
  readonly failed: number;
  /** No worker runs and the last one started failed (worker-starts.ts): no plugin can run. */
  readonly startFailing: boolean;
}
