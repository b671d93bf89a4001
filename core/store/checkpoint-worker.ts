/**
 * The checkpointer's thread: its own connection to the store and, every `intervalMs`, a PASSIVE
 * WAL checkpoint (copying committed pages into the database file and syncing it, off the main
 * thread; it never blocks a reader or a writer). Under steady writes a passive checkpoint never
 * quite catches up, so the WAL would never start over and would grow to the connections'
 * fallback threshold, where a main-thread commit checkpoints tens of MiB itself. Once the WAL
 * holds `restartFrames`, the thread therefore makes it start over with a RESTART checkpoint,
 * which holds writers off while it copies what is left and syncs. To keep that short it first
 * runs up to {@link CATCH_UP_PASSES} more passive passes, each copying only what was committed
 * during the one before (benchmarks: the main thread's commits waited 4-9 ms on every restart).
 * After each checkpoint it also gives excess free pages back to the file system, for at most
 * {@link RECLAIM_BUDGET_MS} (free-pages.ts).
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { errorMessage } from '../errors.js';
import { type Database, openDatabase } from './database.js';
import { reclaimFreePages } from './free-pages.js';
import { GateSlot, isBusy } from './store-calls.js';

const { file, intervalMs, restartFrames, gate, stop } = workerData as {
  file: string;
  intervalMs: number;
  restartFrames: number;
  /** The process's store gate (store-gate.ts): every SQLite call of this thread goes through its slot. */
  gate: SharedArrayBuffer;
  /** One word, set by the owner's `stop()` before its message (checkpointer.ts). */
  stop: SharedArrayBuffer;
};
const stopWord = new Int32Array(stop);

/**
 * Has the owner asked this thread to stop? Its message waits until this module has run, after
 * the open: only this word tells a thread started and stopped at once that its owner is gone.
 */
function stopped(): boolean {
  return Atomics.load(stopWord, 0) !== 0;
}

// stopped before it began (a worker takes tens to hundreds of ms to start): it leaves the store
// and its directory as they are, no slot claimed
if (stopped()) process.exit(0);
/** None when every slot is taken: the calls then go ungated, as a plugin worker's would. */
const slot = GateSlot.claim(gate, threadId);

/**
 * Run `work` inside this thread's gate, unless the process's exit has closed it (then undefined,
 * `work` not run): the exit waits for a call in progress rather than ending the thread inside it.
 * `gatedCalls` (store-calls.ts) enters and leaves the same way, its retries interleaved; one
 * helper for both took more code than it saved, and a closure per plugin store call.
 */
function throughGate<T>(work: () => T): T | undefined {
  if (slot && !slot.enter()) return undefined;
  try {
    return work();
  } finally {
    slot?.leave();
  }
}
/**
 * The longest any statement of this thread waits for a lock held elsewhere, ms, from its open on:
 * a RESTART waits for the writer and readers at most this long, then reports busy and is retried.
 * Short, so that the thread ends soon after it is asked to: the stop never terminates it
 * (checkpointer.ts); at the open it waited the store's 5 s, the longest of all. 20: the few lock
 * waits of its last checkpoint and close (a RESTART's for the writer, then for the readers; a
 * reclaim step's) fit in the least time a stop gives it (`CHECKPOINT_STOP_MIN_MS`, 100 ms), and
 * it still outlasts a commit of the main thread (well under a millisecond; a group commit a few),
 * so a RESTART seldom gives up. Equal to a plugin worker's `WORKER_BUSY_MS` (store-calls.ts) by
 * size, not by rule: that one is set by a worker's end; change either alone.
 */
const BUSY_MS = 20;

const opened = throughGate(open);
// stopped before its open or during it, or the process is exiting (its end ends this thread):
// nothing to do
if (opened === undefined) process.exit(0);
const db: Database = opened;
// out of the gate, and past the stop word's last read: a stop from here on brings the last
// checkpoint, and the owner reading this finds the thread between calls (posted inside the open,
// it was read while the thread was still in its gate: a slot marked then was reset by its leave)
parentPort?.postMessage({ type: 'open' });
let lastError = '';

/**
 * Time given to free pages per checkpoint, ms: their steps hold the write lock, so the main
 * thread's commits may wait about this long, as on a WAL restart; at every 250 ms that hands back
 * at least ~1 MiB/s (more where the end of the file is free already).
 */
const RECLAIM_BUDGET_MS = 4;

/** Extra passive passes before a RESTART, while the previous pass did not catch up. */
const CATCH_UP_PASSES = 2;

interface CheckpointResult {
  readonly busy: number;
  /** Frames in the WAL when the checkpoint started. */
  readonly log: number;
  /** Of those, frames now in the database file. */
  readonly checkpointed: number;
}

function passive(): CheckpointResult | undefined {
  return (db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[])[0];
}

function checkpoint(): void {
  try {
    let result = passive();
    if ((result?.log ?? 0) >= restartFrames) {
      for (let pass = 0; pass < CATCH_UP_PASSES && result && result.checkpointed < result.log; pass++) {
        result = passive();
      }
      db.pragma('wal_checkpoint(RESTART)');
    }
    reclaim();
    lastError = '';
  } catch (err) {
    // reported once per distinct failure; the connections' own autocheckpoint is the fallback
    const message = errorMessage(err);
    if (message !== lastError) parentPort?.postMessage({ type: 'error', message });
    lastError = message;
  }
}

/** Free pages back to the file system; a write lock held elsewhere just defers it to the next turn. */
function reclaim(): void {
  try {
    reclaimFreePages(db, RECLAIM_BUDGET_MS);
  } catch (err) {
    if (!isBusy(err)) throw err;
  }
}

/**
 * This thread's connection, or undefined when the owner asked it to stop meanwhile: before the
 * open (a store gone since is then no failure), or during it (the connection is closed again, no
 * checkpoint run). A store locked elsewhere is said as such (the open's advice is for a start).
 */
function open(): Database | undefined {
  // as late as can be: a stop seen here makes no file
  if (stopped()) return undefined;
  let db: Database;
  try {
    // the inbox's connection made the file and set it up: an open that set auto_vacuum again
    // waited for the write lock, and failed under a commit past BUSY_MS (the thread then lost)
    db = openDatabase(file, undefined, { busyTimeoutMs: BUSY_MS, secondary: true });
  } catch (err) {
    if (stopped()) return undefined;
    if (!isBusy(err)) throw err;
    const cause = (err as { cause?: unknown }).cause;
    throw new Error(
      `another connection held ${file} locked past ${BUSY_MS} ms: ${errorMessage(cause ?? err)}`,
    );
  }
  // a stop that came during the open (its lock waits, a slow disk): the owner is stopping, so no
  // last checkpoint, which copied the WAL after it asked; the close alone (a checkpoint only
  // where this is the last connection, which also removes the WAL files the open made)
  if (stopped()) {
    db.close();
    parentPort?.postMessage({ type: 'stopped in open' });
    return undefined;
  }
  return db;
}

// a stop already asked for brings its own last checkpoint with its message
const timer = setInterval(() => {
  if (!stopped()) throughGate(checkpoint);
}, intervalMs);
parentPort?.on('message', (msg: { type?: string }) => {
  if (msg.type !== 'stop') return;
  clearInterval(timer);
  throughGate(() => {
    checkpoint();
    db.close();
  });
  parentPort?.close();
});
