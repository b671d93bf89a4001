/**
 * What the check thread loads (plugin-check-thread.ts): a CommonJS file that imports the ESM
 * entry, as the pool's workers are loaded (worker-shim.cts). A worker inherits node's flags, and
 * an ESM entry file refuses some of them (`--input-type`, which the pool's CommonJS entry accepts):
 * the check thread must start wherever the pool does.
 */
export default import('./plugin-check-worker.js');
