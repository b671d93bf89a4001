/**
 * The single entry of every pool worker (piscina loads this file). Kept small: the work is in
 * `worker-runtime.ts` and the plugin-host chain runner.
 */
import 'reflect-metadata';
import { workerData } from 'node:worker_threads';
import { RecentSecrets } from './recent-secrets.js';
import { installStrayTrap } from './stray-trap.js';
import type { PoolTask, PoolWorkerData } from './task-protocol.js';
import { handleTask, preload } from './worker-runtime.js';

const { plugins } = workerData as PoolWorkerData;
/** The credentials of this worker's recent forwards and of its plugins' options. */
const recent = new RecentSecrets(plugins.map((p) => p.options));

// before any plugin module loads: a stray error of plugin code is reported (without the
// credentials of the worker's recent tasks), never fatal, and its process.exit is a throw; then
// start importing the plugins while the worker idles, so a replacement worker is warm sooner
preload(installStrayTrap(plugins, () => recent.secrets()));

/** piscina calls the default export with every task; it never throws across the boundary. */
export default function runTask(task: PoolTask): ReturnType<typeof handleTask> {
  // before its hooks run: a timer one of them starts may throw before the batch ends
  try {
    if (task.k !== 'warm') for (const item of task.items) recent.remember(item);
  } catch {
    // not remembered: only a stray error quoting its credentials would miss them, not the task
  }
  return handleTask(task);
}
