/**
 * A pool worker's connection to the plugin store: opened, like every later call of the worker,
 * through its gated calls (store-calls.ts), since the open waits for locks too (its pragmas, the
 * migration's write) and a worker ended inside that wait aborted the process the same way.
 */
import { openDatabase } from './database.js';
import { KvStore } from './kv-store.js';
import { type StoreCalls, WORKER_BUSY_MS } from './store-calls.js';
import type { StoreLimits } from './store-limits.js';

/**
 * Open the store at `file` for a worker whose calls are `calls`: each statement waits at most
 * {@link WORKER_BUSY_MS} for a lock, and an open that got none is closed and made again whole.
 */
export function openWorkerStore(file: string, limits: StoreLimits | undefined, calls: StoreCalls): KvStore {
  return calls.run(() => {
    const db = openDatabase(file, undefined, { busyTimeoutMs: WORKER_BUSY_MS });
    try {
      return new KvStore(db, Date.now, limits, calls);
    } catch (err) {
      db.close();
      throw err;
    }
  });
}
