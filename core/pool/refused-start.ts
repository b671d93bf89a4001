/**
 * A sidecar start the host refuses a thread for (`ERR_WORKER_INIT_FAILED`: a thread, process or
 * memory limit) fails with the code of a worker that could not start, and says what to do: the
 * plugin check thread and the pool's first workers both start before any plugin runs, so the old
 * `CORE_ERR_PLUGIN_LOAD_FAILED` ("the plugin check thread failed: EAGAIN") blamed plugins that
 * were never loaded. A running pool reports refused starts itself (worker-starts.ts).
 */
import { errorMessage, RelayError } from '../errors.js';

const ACTION =
  'the host refused a new thread (a thread, process or memory limit): raise its limits (the ' +
  "user's process limit, ulimit -u, or the container's pids limit) or lower pool.maxThreads, then start again";

/** Did `err` come from node refusing to start a thread? */
export function threadRefused(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ERR_WORKER_INIT_FAILED';
}

/** The start's error for `what` (e.g. "the plugin check thread") refused a thread: `err`. */
export function refusedStart(what: string, err: unknown): RelayError {
  return new RelayError(
    'CORE_ERR_PLUGIN_WORKER_START_FAILED',
    `${what} could not start: ${errorMessage(err)}; ${ACTION}`,
  );
}
