/**
 * The main thread's side of the plugin workers' store gates (core/store/store-calls.ts; docs/
 * decisions.md, "A plugin worker is never ended inside a store call"). One buffer per process,
 * one slot per worker thread (claimed by the worker, freed here at its exit). Every way a worker
 * ends goes through here first:
 *
 * - `Worker.terminate()` (piscina's for a task's timeout or abort, an idle spare, its close's
 *   timeout and its forced close; anyone else's): each worker created while the gate is installed
 *   has it replaced by one that first closes the worker's gate, waiting for a store call inside to
 *   come out (one {@link WORKER_BUSY_MS} wait for a lock, and the call's own work), then ends it;
 * - the process's exit (the runtime terminates every thread): its `exit` listener closes every
 *   gate the same way, waiting synchronously.
 *
 * A call still inside after {@link GATE_LEAVE_LIMIT_MS} is held by the disk, not a lock, and
 * `onLate` is told. A terminate goes on waiting for it: the thread could not end inside the call
 * anyway (a native call runs to its return), and a call that then failed in an ending thread
 * aborted the process. The exit ends it (the runtime then waits for the call to return all the
 * same): its wait is synchronous and cannot tell a thread that died inside its call, whose gate
 * nobody leaves, from one still in it (docs/decisions.md).
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger.js';
import { BUSY_TIMEOUT_MS } from './database.js';
import {
  GATE_CLOSED,
  GATE_INSIDE,
  GATE_OPEN,
  GATE_SLOTS,
  GATE_WANTED,
  GATE_WORDS,
  WORKER_BUSY_MS,
} from './store-calls.js';

/**
 * How long the main thread waits for a worker's store call to come out before it reports the call
 * late, ms (and, at the process's exit, ends the worker anyway): no call waited for a lock longer
 * before the gate (the store's busy timeout), and one waits {@link WORKER_BUSY_MS} now.
 */
export const GATE_LEAVE_LIMIT_MS = BUSY_TIMEOUT_MS;

/** What a thread holding a gate slot is: a late call is reported under its kind. */
export type GateThreadKind = 'plugin worker' | 'checkpoint thread';

/**
 * What follows a call still inside at the limit: the end waits on for it (a terminate), or the
 * thread is ended with it inside (the process's exit).
 */
export type LateEnd = 'waits' | 'ends';

/** Told when a thread's store call was still inside its gate after `waitedMs`, and what follows. */
export type OnLate = (threadId: number, waitedMs: number, kind: GateThreadKind, end: LateEnd) => void;

/** How {@link logLateCalls} reports a late call of each kind of thread (fixed messages). */
const LATE_REPORTS: Readonly<Record<GateThreadKind, { component: string } & Record<LateEnd, string>>> = {
  'plugin worker': {
    component: 'plugin-pool',
    ends: 'plugin worker ended with a store call still running',
    waits: 'plugin worker end waits for a store call still running',
  },
  'checkpoint thread': {
    component: 'checkpointer',
    ends: 'checkpoint thread ended with a store call still running',
    waits: 'checkpoint thread end waits for a store call still running',
  },
};

/** `Atomics.waitAsync` (ES2024; node 16 and later have it). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      words: Int32Array,
      index: number,
      value: number,
      ms: number,
    ): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

/** Tell `log` of each late call, a warning under its kind of thread (the plugin host's listener). */
export function logLateCalls(log: Logger): OnLate {
  return (threadId, waitedMs, kind, end) => {
    const report = LATE_REPORTS[kind];
    log.warn({ component: report.component, threadId, waitedMs }, report[end]);
  };
}

let words: Int32Array | undefined;
let onLate: OnLate | undefined;
/**
 * Threads named by their maker ({@link nameGateThread}) while they run; any other is a plugin
 * worker: piscina makes those, and they alone claimed slots before the checkpoint thread did.
 */
const kinds = new Map<number, GateThreadKind>();

/**
 * Say that the thread `threadId` (a Worker made after {@link storeGate}: its exit forgets the
 * name) is a `kind`, for the report of a late call of its.
 */
export function nameGateThread(threadId: number, kind: GateThreadKind): void {
  kinds.set(threadId, kind);
}

/**
 * Tell the listener of thread `id`'s late call, with its kind. A listener that throws (a log
 * destination failing) changes nothing of the end: the terminate still follows, the exit still
 * closes the other gates. The throw itself is dropped: the listener was the one to report with.
 */
function tellLate(id: number, waitedMs: number, end: LateEnd): void {
  try {
    onLate?.(id, waitedMs, kinds.get(id) ?? 'plugin worker', end);
  } catch {
    // the report is lost; the bound on the end holds
  }
}

/**
 * The process's gate buffer, for the pool's `workerData` (`storeGate`); the first call installs
 * the gate (the `worker` and `exit` listeners of the process), so make it before the pool's
 * workers are created. `late` replaces the listener told of a late call.
 */
export function storeGate(late?: OnLate): SharedArrayBuffer {
  if (late) onLate = late;
  if (words) return words.buffer as SharedArrayBuffer;
  words = new Int32Array(new SharedArrayBuffer(GATE_SLOTS * GATE_WORDS * Int32Array.BYTES_PER_ELEMENT));
  process.on('worker', guard);
  // before the runtime ends the threads: a natural exit and process.exit alike
  process.on('exit', closeAll);
  return words.buffer as SharedArrayBuffer;
}

/** The state word of thread `threadId`'s slot, or -1 when it holds none. */
function stateOf(threadId: number): number {
  if (!words || threadId <= 0) return -1;
  for (let at = 0; at < words.length; at += GATE_WORDS) {
    if (Atomics.load(words, at) === threadId) return at + 1;
  }
  return -1;
}

/** Close the gate at `state` if no call is inside: true once it is closed. */
function tryClose(gate: Int32Array, state: number): boolean {
  for (;;) {
    const seen = Atomics.compareExchange(gate, state, GATE_OPEN, GATE_CLOSED);
    if (seen === GATE_OPEN || seen === GATE_CLOSED) return true;
    if (seen === GATE_WANTED) return false;
    // inside: ask the call to close the gate as it leaves (it may have left meanwhile: again)
    if (Atomics.compareExchange(gate, state, GATE_INSIDE, GATE_WANTED) === GATE_INSIDE) return false;
  }
}

/** Replace `worker.terminate` by one that first closes its gate; free its slot at its exit. */
function guard(worker: Worker): void {
  // kept: a thread's id reads -1 once it has exited
  const id = worker.threadId;
  const terminate = worker.terminate.bind(worker);
  worker.terminate = () => {
    const gate = words;
    const state = stateOf(id);
    // no slot (not a pool worker, or one that has not claimed it) or no call inside: at once
    if (!gate || state < 0 || tryClose(gate, state)) return terminate();
    return closed(gate, state, id).then(terminate);
  };
  worker.once('exit', () => {
    kinds.delete(id);
    const gate = words;
    const state = stateOf(id);
    if (!gate || state < 0) return;
    Atomics.store(gate, state, GATE_OPEN);
    Atomics.store(gate, state - 1, 0);
    // an end waiting for its call to leave: it is over
    Atomics.notify(gate, state);
  });
}

/**
 * Resolves once the call inside the gate at `state` has left it (closing it), or its thread has
 * exited; told late once at the limit, and waiting on: ended then, the thread still stopped only
 * as the call returned, and a call that failed then aborted the process.
 */
async function closed(gate: Int32Array, state: number, id: number): Promise<void> {
  const started = performance.now();
  let told = false;
  for (;;) {
    // the thread ended meanwhile and its slot was freed (at its exit, on this thread), maybe taken
    // by a new worker since: that one's gate is not this end's to close
    if (Atomics.load(gate, state - 1) !== id || tryClose(gate, state)) return;
    const left = GATE_LEAVE_LIMIT_MS - (performance.now() - started);
    if (left <= 0 && !told) {
      told = true;
      tellLate(id, Math.round(performance.now() - started), 'waits');
    }
    // woken by the call leaving, or by the thread's exit freeing the slot (a death inside a call)
    const waited = waitAsync(gate, state, GATE_WANTED, told ? Number.POSITIVE_INFINITY : left);
    if (waited.async) await waited.value;
  }
}

/** The process exits: close every gate, waiting (synchronously) for the calls inside to leave. */
function closeAll(): void {
  const gate = words;
  if (!gate) return;
  const started = performance.now();
  for (let state = 1; state < gate.length; state += GATE_WORDS) {
    while (!tryClose(gate, state)) {
      const left = GATE_LEAVE_LIMIT_MS - (performance.now() - started);
      if (left <= 0) {
        tellLate(Atomics.load(gate, state - 1), Math.round(performance.now() - started), 'ends');
        break;
      }
      Atomics.wait(gate, state, GATE_WANTED, left);
    }
  }
}
