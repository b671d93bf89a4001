/**
 * WAL checkpoints off the main thread. Left to SQLite, a checkpoint runs inside whichever commit
 * crosses the WAL threshold — usually the main thread's — and syncs the database file there,
 * stalling the read loop for milliseconds (benchmarks: p99 latency). Connections therefore
 * checkpoint themselves only as a fallback ({@link FALLBACK_AUTOCHECKPOINT_PAGES}), and this
 * thread checkpoints every few hundred ms instead, making the WAL start over once it holds
 * {@link RESTART_FRAMES} pages.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { heldClock } from '../di/clock.js';
import type { Deadline } from '../di/deadline.js';
import { armWorkDeadline, type PauseMeter, startPauseMeter } from '../di/pause-meter.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import { nameGateThread, storeGate } from './store-gate.js';

const ENTRY = fileURLToPath(new URL('./checkpoint-worker.js', import.meta.url));

/** Default time between checkpoints, ms. */
export const CHECKPOINT_INTERVAL_MS = 250;

/**
 * WAL frames (pages) after which the thread makes the WAL start over (~64 MiB). Each restart
 * holds writers off for a sync of the database file (a few ms here), so it is kept rare: at
 * 1 000 events/s about once every 3 s (at 2 000 frames it was twice a second; benchmarks).
 */
export const RESTART_FRAMES = 16_000;

/**
 * The least time a stop gives the thread, ms, whatever is left of the caller's budget: its last
 * checkpoint and close, each wait on a lock bounded by the thread's busy timeout. The one place
 * that says it: the inbox's close gives it, the drain's `inbox_close` step allows for it.
 */
export const CHECKPOINT_STOP_MIN_MS = 100;

/** A background checkpointer for one database file. */
export class Checkpointer {
  private readonly worker: Worker;
  /** Set by {@link stop} before its message: read by the thread before and after its open, and each tick. */
  private readonly stopWord = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  private readonly exited: Promise<void>;
  private stopping: Promise<boolean> | undefined;

  private constructor(
    file: string,
    intervalMs: number,
    restartFrames: number,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    // the thread's SQLite calls go through a slot of the process's store gate, as a plugin
    // worker's: an exit while the thread runs (the CLI's at the drain's budget, a forced one)
    // waits for its call in progress; ended inside one, the thread aborted the process
    const gate = storeGate();
    const stop = this.stopWord.buffer;
    this.worker = new Worker(ENTRY, { workerData: { file, intervalMs, restartFrames, gate, stop } });
    // a late call of its at an exit is reported as this thread's, not as a plugin worker's
    nameGateThread(this.worker.threadId, 'checkpoint thread');
    this.worker.on('message', (msg: { type?: string; message?: string }) => {
      if (msg.type === 'open') log.debug({ component: 'checkpointer' }, 'checkpoint thread opened the store');
      if (msg.type === 'stopped in open') {
        log.debug(
          { component: 'checkpointer' },
          'checkpoint thread stopped during its open: no last checkpoint',
        );
      }
      if (msg.type === 'error') {
        reportError(log, metrics, 'CORE_ERR_STORE_CHECKPOINT_FAILED', 'background WAL checkpoint failed', {
          error: msg.message,
        });
      }
    });
    this.worker.on('error', (err) => {
      reportError(log, metrics, 'CORE_ERR_STORE_CHECKPOINT_FAILED', 'checkpoint thread died', {
        error: err.message,
      });
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // after the listeners (adding a 'message' listener refs the worker again): never keeps the
    // process alive on its own
    this.worker.unref();
  }

  /** Start checkpointing `file` every `intervalMs`, restarting the WAL past `restartFrames`. */
  static start(
    file: string,
    log: Logger,
    metrics: Metrics,
    intervalMs = CHECKPOINT_INTERVAL_MS,
    restartFrames = RESTART_FRAMES,
  ): Checkpointer {
    return new Checkpointer(file, intervalMs, restartFrames, log, metrics);
  }

  /**
   * Run a last checkpoint and stop, waiting at most `budgetMs` of `meter`'s time (the drain's,
   * so the limit runs on the clock of the shutdown step that bounds it; else a meter of its own).
   * Resolves true when the thread ended within it; else false, reported once
   * (`CORE_ERR_STORE_CHECKPOINT_STOP_LATE`), the thread left to end on its own and the process
   * kept up until it has. Idempotent.
   */
  stop(budgetMs = 2_000, meter?: PauseMeter): Promise<boolean> {
    this.stopping ??= this.ended(budgetMs, meter);
    return this.stopping;
  }

  private async ended(budgetMs: number, meter: PauseMeter | undefined): Promise<boolean> {
    // the word first: a thread not yet at its open reads it there and leaves without opening (its
    // message is read only after the open), one inside it reads it as the open returns and closes
    // without a checkpoint; one past it takes the message (last checkpoint, close)
    Atomics.store(this.stopWord, 0, 1);
    this.worker.postMessage({ type: 'stop' });
    let deadline: Deadline | undefined;
    // a bound on the thread's work less the pauses, which stop the thread too: on a plain timer
    // the freeze's resume cut its last checkpoint. Not a deadline that starts its whole time
    // again after a late timer: a merely slow machine earned it the budget again, past the
    // inbox_close step that bounds it on the drain's meter (CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED)
    const own = meter ? undefined : startPauseMeter();
    const late = new Promise<'late'>((resolve) => {
      deadline = armWorkDeadline(heldClock, meter ?? (own as PauseMeter), budgetMs, () => resolve('late'));
    });
    const ended = (await Promise.race([this.exited, late])) !== 'late';
    deadline?.clear();
    own?.stop();
    if (ended) return true;
    // Never terminated: a thread ended inside a SQLite call that then fails (a lock's busy wait)
    // aborted the whole process (better-sqlite3 throws into the ending thread: FATAL ERROR,
    // SIGABRT), and the wait for it was unbounded. Its waits on locks are short, so it ends
    // soon; a slow disk holds it longer, and the process waits for it rather than exit under it.
    // What is committed is safe either way: the WAL holds it until a checkpoint copies it
    this.worker.ref();
    reportError(
      this.log,
      this.metrics,
      'CORE_ERR_STORE_CHECKPOINT_STOP_LATE',
      'checkpoint thread still stopping',
      {
        budgetMs,
      },
    );
    return false;
  }
}
