/**
 * The single entry of every pool worker (piscina loads this file). Kept small: the work is in
 * `worker-runtime.ts` and the plugin-host chain runner.
 */
import 'reflect-metadata';
import { handleTask, preload } from './worker-runtime.js';

// start importing the plugins while the worker idles, so a replacement worker is warm sooner
preload();

/** piscina calls the default export with every task; it never throws across the boundary. */
export default handleTask;
