/**
 * How a pool worker makes its SQLite calls so that its thread is never ended inside one
 * (docs/decisions.md, "A plugin worker is never ended inside a store call"). A thread terminated
 * while a better-sqlite3 call runs cannot stop until the call returns, and when the call then
 * fails (`SQLITE_BUSY` after its wait for a lock) better-sqlite3 throws into the ending thread and
 * the whole process aborts (`FATAL ERROR: v8::ToLocalChecked Empty MaybeLocal`, SIGABRT). So:
 *
 * - each call of a worker waits at most {@link WORKER_BUSY_MS} for a lock, and is made again
 *   while the store's whole wait ({@link BUSY_TIMEOUT_MS}) is not over: the thread is back in
 *   JavaScript every few milliseconds, and a call that cannot get the lock in that time fails as
 *   it did after one long wait;
 * - each call runs inside the worker's gate word ({@link GateSlot}), shared with the main thread:
 *   the main thread ends a worker only once it has closed the gate (store-gate.ts), which waits
 *   for a call inside to come out, and no call starts once it is closed.
 */
import { RelayError } from '../errors.js';
import { BUSY_TIMEOUT_MS } from './database.js';

/**
 * The longest one SQLite call of a plugin worker waits for a lock held elsewhere, ms: the longest
 * the main thread waits to end a worker whose call waits. 20: small beside a task's time (2 s by
 * default), and long enough that SQLite's busy handler still polls inside one attempt (after 1,
 * 3, 8 and 18 ms) rather than each attempt, made again whole, being a single try: the store's
 * 5 s are ~250 attempts. Equal to the checkpoint thread's `BUSY_MS` (checkpoint-worker.ts) by
 * size, not by rule: that one is set by the thread's stop; change either alone.
 */
export const WORKER_BUSY_MS = 20;

/** Gate words per slot: the owner's `threadId` (0: free), then its state. */
export const GATE_WORDS = 2;
/** Slots of the process's gate buffer: more than the pool's threads, spares and replacements. */
export const GATE_SLOTS = 256;

/** A gate's state: no call inside. */
export const GATE_OPEN = 0;
/** A call inside. */
export const GATE_INSIDE = 1;
/** A call inside, and the main thread waits to end the worker: the call closes the gate as it leaves. */
export const GATE_WANTED = 2;
/** Closed: the worker is being ended, no call may start. */
export const GATE_CLOSED = 3;

/** How a store makes its SQLite calls: a worker's through its gate, with retries. */
export interface StoreCalls {
  /** Run `call` (SQLite calls only, retried whole after `SQLITE_BUSY`: nothing may be half done). */
  run<T>(call: () => T): T;
}

/** Calls made as they come (the main thread: nothing ends it under a call). */
export const directCalls: StoreCalls = { run: (call) => call() };

/** One worker's gate word in the process's gate buffer. */
export class GateSlot {
  private readonly state: number;

  private constructor(
    private readonly words: Int32Array,
    slot: number,
  ) {
    this.state = slot * GATE_WORDS + 1;
  }

  /**
   * The first free slot of `buffer`, claimed for thread `threadId`; undefined when every slot is
   * taken (the worker's calls then go ungated, as before the gate).
   */
  static claim(buffer: SharedArrayBuffer, threadId: number): GateSlot | undefined {
    const words = new Int32Array(buffer);
    for (let slot = 0; slot * GATE_WORDS < words.length; slot++) {
      if (Atomics.compareExchange(words, slot * GATE_WORDS, 0, threadId) !== 0) continue;
      // its state left as it is: open (store-gate.ts opens a slot before it frees it at its
      // owner's exit), or closed by the main thread since (the process exits): opening it here
      // let a worker claiming it then make calls while the runtime ended it
      return new GateSlot(words, slot);
    }
    return undefined;
  }

  /** Enter a call: false once the gate is closed (the worker is being ended). */
  enter(): boolean {
    return Atomics.compareExchange(this.words, this.state, GATE_OPEN, GATE_INSIDE) === GATE_OPEN;
  }

  /** Leave a call; when the main thread waits for it, close the gate and wake it. */
  leave(): void {
    if (Atomics.compareExchange(this.words, this.state, GATE_INSIDE, GATE_OPEN) !== GATE_WANTED) return;
    Atomics.store(this.words, this.state, GATE_CLOSED);
    Atomics.notify(this.words, this.state);
  }
}

/** Is `err` a lock not granted in time (also as the cause of a failed open)? */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return true;
  return code === 'CORE_ERR_STORE_OPEN_FAILED' && isBusy((err as { cause?: unknown }).cause);
}

/** What a call started on a worker being ended throws (its task has already failed, or no task runs). */
function ending(): RelayError {
  return new RelayError(
    'CORE_ERR_PLUGIN_STORE_FAILED',
    'store call refused: this plugin worker is being ended (its task ran out of time, or the pool or the process is stopping)',
  );
}

/** What a nap between two attempts waits on (nothing ever wakes it: it times out). */
const nap = new Int32Array(new SharedArrayBuffer(4));

/** Block the thread `ms` (a terminate ends the wait: it is JavaScript's, not SQLite's). */
function napFor(ms: number): void {
  Atomics.wait(nap, 0, 0, ms);
}

/**
 * A worker's calls: each inside `slot` (when it has one) and made again after `SQLITE_BUSY` until
 * `budgetMs` have passed since the first failed (each waits {@link WORKER_BUSY_MS} at most, as
 * the worker's connection is opened). A call inside another runs as it is, inside the outer one.
 */
export function gatedCalls(
  slot: GateSlot | undefined,
  budgetMs = BUSY_TIMEOUT_MS,
  now: () => number = () => performance.now(),
): StoreCalls {
  let depth = 0;
  return {
    run<T>(call: () => T): T {
      if (depth > 0) return call();
      let failedAt: number | undefined;
      let attemptAt: number | undefined;
      for (;;) {
        if (slot && !slot.enter()) throw ending();
        depth++;
        let quick = false;
        try {
          return call();
        } catch (err) {
          const at = now();
          failedAt ??= at;
          if (!isBusy(err) || at - failedAt >= budgetMs) throw err;
          quick = attemptAt !== undefined && at - attemptAt < WORKER_BUSY_MS / 2;
        } finally {
          depth--;
          slot?.leave();
        }
        // a refusal that did not wait (SQLite skips the busy wait where waiting could deadlock):
        // a nap, outside the gate, rather than a core spun for the whole budget
        if (quick) napFor(WORKER_BUSY_MS);
        attemptAt = now();
      }
    },
  };
}
