/**
 * The piscina pool the plugin pool runs its workers in (plugin-pool.ts), made once at its start
 * and again whenever it renews one that gave up (pool-renewal.ts): the same options each time.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { storeGate } from '../store/store-gate.js';
import { BOOT_KEY } from './boot-report.js';
import type { PluginPoolOptions } from './pool-options.js';
import type { ProgressSlots } from './progress-slots.js';
import { ReadyWorkers } from './ready-dispatch.js';
import type { PoolTask, PoolWorkerData } from './task-protocol.js';
import { guardWorkerStarts } from './thread-refusals.js';
import { pluginEnv } from './worker-env.js';

/** What piscina loads in each worker (a CommonJS shim that imports the ESM entry: worker-shim.cts). */
export const WORKER_ENTRY = fileURLToPath(new URL('./worker-shim.cjs', import.meta.url));

/** A piscina pool for `options`, its workers sharing `slots`; closes within `closeBudgetMs`. */
export function createPiscina(
  options: PluginPoolOptions,
  slots: ProgressSlots,
  closeBudgetMs: number,
): Piscina<PoolTask, unknown> {
  const { pool } = options;
  // a thread the host refuses fails as a worker, where piscina would throw it from its own
  // event handlers and end the process (thread-refusals.ts)
  guardWorkerStarts();
  // a waiting task goes to a ready, idle worker only, never to one still loading (ready-dispatch.ts)
  const ready = new ReadyWorkers();
  const piscina = new Piscina<PoolTask, unknown>({
    filename: options.entry ?? WORKER_ENTRY,
    atomics: 'disabled',
    minThreads: Math.min(pool.minThreads, pool.maxThreads),
    maxThreads: pool.maxThreads,
    maxQueue: pool.maxQueue,
    idleTimeout: pool.idleTimeoutMs,
    closeTimeout: closeBudgetMs,
    loadBalancer: ready.balancer,
    env: pluginEnv(),
    resourceLimits: {
      maxOldGenerationSizeMb: pool.maxOldGenerationSizeMb,
      maxYoungGenerationSizeMb: pool.maxYoungGenerationSizeMb,
    },
    workerData: {
      ...options.worker,
      // every pool's workers are gated, not only the plugin host's: one terminated inside a store
      // call aborts the process whoever made the pool (a test's, an embedder's). Installed here,
      // before this pool creates a worker (store-gate.ts)
      storeGate: options.worker.storeGate ?? storeGate(),
      progress: slots.buffer,
      progressStartedAt: slots.startedBuffer,
      progressBeforeBoot: slots.bootBuffer,
      progressOwner: slots.ownerBuffer,
      bootKey: BOOT_KEY,
    } satisfies PoolWorkerData,
  });
  ready.watch(piscina);
  return piscina;
}
