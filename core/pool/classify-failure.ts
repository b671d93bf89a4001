/**
 * Map a rejected pool task to a stable code (spec/plugins.md, "Isolation"). piscina rejects with
 * plain Errors (their class and code are lost across threads), so the facts the pool knows —
 * did our timer fire, did the worker start the task, is the pool closing — decide first.
 */
import { type ErrorData, errorMessage } from '../errors.js';

/** What the pool knows about a rejected task. */
export interface FailureFacts {
  /** The task's own timer fired and aborted it. */
  readonly timedOut: boolean;
  /** The worker had started the task (its progress slot was written). */
  readonly started: boolean;
  /** The pool is closing or closed. */
  readonly closing: boolean;
  /** The task's timeout, ms (for the message). */
  readonly timeoutMs: number;
}

/** Did piscina refuse the task because its queue is full (or it has none)? */
export function queueRefused(message: string): boolean {
  return /Task queue is at limit|No task queue available/.test(message);
}

/** Did piscina reject the task because its worker's thread exited (not a timeout, not a throw)? */
export function threadExited(err: unknown): boolean {
  return /^worker exited with code/.test(errorMessage(err));
}

/** The failure of an item whose hook called `process.exit` (or the like): its worker ended. */
export function exitFailure(call: string): ErrorData {
  return {
    code: 'CORE_ERR_PLUGIN_WORKER_DIED',
    message: `hook called ${call}: a plugin must never end its worker; the worker was replaced`,
  };
}

/** The `{code, message}` of a rejected task. */
export function classifyFailure(err: unknown, facts: FailureFacts): ErrorData {
  if (facts.timedOut && facts.started) {
    return {
      code: 'CORE_ERR_PLUGIN_TIMEOUT',
      // the next step with the fact: the budget is the entry's or the pool's default
      message: `hook did not finish within ${facts.timeoutMs} ms; its worker was terminated: raise the plugin's "timeoutMs" in plugins.json (or pool.taskTimeoutMs, the default), or make the hook faster (do slow set-up once, lazily, not on every call)`,
    };
  }
  if (facts.timedOut) {
    // never started: the pool was too busy (or a worker was still booting) for the whole budget
    return {
      code: 'CORE_ERR_PLUGIN_POOL_SATURATED',
      message: `task waited ${facts.timeoutMs} ms without getting a worker`,
    };
  }
  if (facts.closing) return { code: 'CORE_ERR_PLUGIN_POOL_CLOSED', message: 'the worker pool is closing' };
  const code = (err as { code?: unknown } | null)?.code;
  const message = errorMessage(err);
  const outOfMemory = code === 'ERR_WORKER_OUT_OF_MEMORY';
  if (!facts.started && (outOfMemory || threadExited(err))) {
    // a worker marks a task started once its plugins are imported (worker-runtime.ts): a task it
    // had but never started died with the worker's boot, not with any hook
    return {
      code: 'CORE_ERR_PLUGIN_WORKER_BOOT_FAILED',
      message: `the worker died while importing the plugins, before this task started: ${
        outOfMemory ? 'out of memory (resource limit reached)' : message.replace(/^worker/, 'thread')
      }`,
    };
  }
  if (outOfMemory) {
    return {
      code: 'CORE_ERR_PLUGIN_WORKER_DIED',
      message: 'worker ran out of memory (resource limit reached)',
    };
  }
  if (threadExited(err)) {
    return { code: 'CORE_ERR_PLUGIN_WORKER_DIED', message: message.replace(/^worker/, 'worker thread') };
  }
  if (queueRefused(message)) {
    return { code: 'CORE_ERR_PLUGIN_POOL_SATURATED', message: 'the worker pool queue is full' };
  }
  return { code: 'CORE_ERR_PLUGIN_WORKER_DIED', message: `worker failed: ${message.slice(0, 500)}` };
}
