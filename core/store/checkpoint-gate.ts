/**
 * The process's exit must not end the checkpoint thread inside a SQLite call. An exit ends every
 * thread still running (node terminates it, then waits for it); a thread ended inside a call that
 * then fails (a lock's busy wait ending in SQLITE_BUSY) has better-sqlite3 throw into the ending
 * thread, and the whole process aborts (FATAL ERROR, SIGABRT). The stop never terminates the thread
 * (checkpointer.ts), but the CLI exits by itself at the drain's budget, at its forced exit and at a
 * second signal, whether the thread has ended or not. So the thread makes its calls through a gate:
 * a shared word the exit closes, waiting for a call in progress to return, and after which the
 * thread starts none (test/core/store/checkpointer-stop).
 */

/** The thread is between calls: the exit may end it. */
const IDLE = 0;
/** The thread is inside its calls: the exit waits. */
const BUSY = 1;
/** The process is exiting: the thread starts no call. */
const EXITING = 2;

/**
 * Longest the exit waits for the thread's calls in progress, ms: a lock's wait is 20 ms there, a
 * checkpoint's copy and sync of the WAL normally well under a second; past it (a hung disk) the
 * exit goes on as before.
 */
export const EXIT_WAIT_MS = 5_000;

/** A new gate, open, to hand to the thread (`workerData`). */
export function createGate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
}

/** In the thread: run `work` unless the process is exiting (then undefined, `work` not run). */
export function throughGate<T>(gate: Int32Array, work: () => T): T | undefined {
  if (Atomics.compareExchange(gate, 0, IDLE, BUSY) !== IDLE) return undefined;
  try {
    return work();
  } finally {
    Atomics.store(gate, 0, IDLE);
    Atomics.notify(gate, 0);
  }
}

/**
 * On the main thread, as the process exits: close the gate once the thread is between calls
 * (waiting until `until`, {@link performance.now} time, at most); the thread starts none after it.
 */
export function closeGate(gate: Int32Array, until = performance.now() + EXIT_WAIT_MS): void {
  while (Atomics.compareExchange(gate, 0, IDLE, EXITING) === BUSY) {
    const left = until - performance.now();
    if (left <= 0) return;
    Atomics.wait(gate, 0, BUSY, left);
  }
}

/** The gates of the threads running now: the exit closes each. */
const running = new Set<Int32Array>();

/** One listener for them all (one per thread passed node's limit of ten in tests). */
function closeAll(): void {
  const until = performance.now() + EXIT_WAIT_MS;
  for (const gate of running) closeGate(gate, until);
}

/**
 * Have the process's exit close `gate` (waiting for the thread's call in progress); until the
 * function returned is called, once the thread has ended.
 */
export function closeAtExit(gate: Int32Array): () => void {
  if (running.size === 0) process.on('exit', closeAll);
  running.add(gate);
  return () => {
    running.delete(gate);
    if (running.size === 0) process.off('exit', closeAll);
  };
}
