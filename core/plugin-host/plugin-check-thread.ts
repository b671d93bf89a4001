/**
 * The main thread's side of the start-up check: runs plugin-check-worker.ts in a short-lived
 * worker thread and collects one plain verdict per plugin. Plugin code never runs on the main
 * thread, so a module that loops forever at top level is cut after the load limit (the thread is
 * terminated) instead of hanging the start with no timer able to fire, and a module's stray timer
 * or interval ends with the thread instead of running (or throwing) beside the read loop.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { heldClock } from '../di/clock.js';
import { armDeadline, type Deadline } from '../di/deadline.js';
import { errorMessage, RelayError } from '../errors.js';
import { refusedStart, threadRefused } from '../pool/refused-start.js';
import { pluginEnv } from '../pool/worker-env.js';
import { type CheckCode, type CheckRef, type CheckVerdict, firstLine } from './plugin-check.js';
import type { CheckMessage, CheckWorkerData } from './plugin-check-worker.js';

/** The check thread's entry (a CommonJS shim of plugin-check-worker.ts), beside this file in dist/. */
const CHECK_WORKER = new URL('./plugin-check-shim.cjs', import.meta.url);

/**
 * Longest wait for the check thread to start and load the core's API (before any plugin code
 * runs), ms. Core code only, so never charged to a plugin's load limit; generous, because a
 * crowded machine starting many isolates at once took more than 30 s (ava running several
 * hosts per file), and bounded all the same.
 */
export const CHECK_BOOT_TIMEOUT_MS = 120_000;

/** How long a terminated check thread may take to end before it is left behind (unref'd), ms. */
const TERMINATE_BUDGET_MS = 5_000;

/** Limits of the check thread. */
export interface CheckLimits {
  /** How long one module may take to import, and its options schema to parse, ms. */
  readonly loadTimeoutMs: number;
  /** V8 heap limits of the thread (the pool's: a module that needs more would fail there too). */
  readonly resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

/**
 * Check `plugins` in one worker thread, in order. Resolves with one verdict per plugin up to and
 * including the first refusal; rejects (`CORE_ERR_PLUGIN_LOAD_FAILED`) only when the thread itself
 * cannot start.
 */
export function checkInThread(plugins: readonly CheckRef[], limits: CheckLimits): Promise<CheckVerdict[]> {
  if (plugins.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const verdicts: CheckVerdict[] = [];
    let current: { index: number; phase: 'import' | 'options' } | undefined;
    let failure: unknown;
    let done = false;
    let timer: Deadline | undefined;
    const channel = new MessageChannel();
    let worker: Worker;
    try {
      worker = new Worker(CHECK_WORKER, {
        workerData: { plugins, port: channel.port2 } satisfies CheckWorkerData,
        transferList: [channel.port2],
        // its modules' top level is plugin code, as a pool worker's
        env: pluginEnv(),
        ...(limits.resourceLimits ? { resourceLimits: limits.resourceLimits } : {}),
      });
    } catch (err) {
      channel.port1.close();
      reject(
        threadRefused(err) ? refusedStart('the plugin check thread', err) : threadFailed(errorMessage(err)),
      );
      return;
    }

    // settles once the thread has ended: no plugin code of the check runs after it
    const finish = (error?: RelayError) => {
      if (done) return;
      done = true;
      timer?.clear();
      channel.port1.close();
      void stop(worker).then(() => (error ? reject(error) : resolve(verdicts)));
    };
    // a deadline: after a freeze it first reads what the thread posted meanwhile, and a load a
    // pause cut gets its time again (a freeze during the start blamed a plugin that loaded fine)
    const arm = (ms: number, onLate: () => void) => {
      timer?.clear();
      timer = armDeadline(heldClock, ms, onLate);
    };
    // the current plugin gets the blame for whatever stops the thread while it is checked
    const blame = (problem: string, code: CheckCode = 'CORE_ERR_PLUGIN_LOAD_FAILED') => {
      verdicts.push({ ok: false, code, problem });
      finish();
    };
    const late = () => {
      if (!current) {
        finish(threadFailed(`it did not start within ${CHECK_BOOT_TIMEOUT_MS} ms`));
        return;
      }
      if (current.phase === 'import') {
        blame(
          `the module did not finish loading within ${limits.loadTimeoutMs} ms (a top-level loop, or a ` +
            'top-level await that never settles?); it was stopped. Do slow set-up lazily, in the first ' +
            'hook call',
        );
      } else {
        // as for a schema that throws: the options cannot be parsed
        blame(
          `options: the options schema did not finish within ${limits.loadTimeoutMs} ms (a refinement ` +
            'that loops?); it was stopped',
          'CORE_ERR_PLUGIN_OPTIONS_INVALID',
        );
      }
    };

    arm(Math.max(limits.loadTimeoutMs, CHECK_BOOT_TIMEOUT_MS), late);
    channel.port1.on('message', (message: CheckMessage) => {
      if (done) return;
      if (message.k === 'checked') {
        current = undefined;
        timer?.clear();
        verdicts.push(message.verdict);
        if (!message.verdict.ok || verdicts.length === plugins.length) finish();
        return;
      }
      current = { index: message.index, phase: message.k === 'loading' ? 'import' : 'options' };
      arm(limits.loadTimeoutMs, late);
    });
    worker.on('error', (err) => {
      failure = err;
    });
    worker.on('exit', (code) => {
      // a verdict posted just before the end travels on the channel: let it arrive first
      setImmediate(() => {
        if (done) return;
        if (!current) {
          finish(threadFailed(failure === undefined ? `it exited with code ${code}` : errorMessage(failure)));
          return;
        }
        blame(endedWhileLoading(failure, code));
      });
    });
  });
}

/** Why the thread ended while a module was loading or its options parsed. */
function endedWhileLoading(failure: unknown, exitCode: number): string {
  if ((failure as { code?: unknown } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return (
      'the module ran out of memory while loading (the limits are pool.maxOldGenerationSizeMb and ' +
      'pool.maxYoungGenerationSizeMb)'
    );
  }
  if (failure !== undefined) {
    return `the module's check thread failed while loading it: ${firstLine(failure)}`;
  }
  return (
    `the module ended its check thread (exit code ${exitCode}) while loading: a plugin must never end ` +
    'the process; return a verdict or throw instead'
  );
}

function threadFailed(why: string): RelayError {
  return new RelayError('CORE_ERR_PLUGIN_LOAD_FAILED', `the plugin check thread failed: ${why}`);
}

/** Terminate the thread, bounded: one stuck in native code is left behind, unref'd. */
async function stop(worker: Worker): Promise<void> {
  worker.unref();
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, TERMINATE_BUDGET_MS);
    timer.unref();
  });
  try {
    await Promise.race([worker.terminate().then(() => undefined), budget]);
  } finally {
    clearTimeout(timer);
  }
}
