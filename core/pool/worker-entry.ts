/**
 * The single entry of every pool worker (piscina loads this file). Kept small: the work is in
 * `worker-runtime.ts` and the plugin-host chain runner.
 */
import 'reflect-metadata';
import { workerData } from 'node:worker_threads';
import { installStrayTrap } from './stray-trap.js';
import type { PoolWorkerData } from './task-protocol.js';
import { handleTask, preload } from './worker-runtime.js';

// before any plugin module loads: a stray error of plugin code is reported, never fatal, and its
// process.exit is a throw; then start importing the plugins while the worker idles, so a
// replacement worker is warm sooner
preload(installStrayTrap((workerData as PoolWorkerData).plugins));

/** piscina calls the default export with every task; it never throws across the boundary. */
export default handleTask;
