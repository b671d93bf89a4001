/**
 * Which piscina threads have loaded their entry (docs/decisions.md, "Waiting tasks"): a worker
 * posts piscina's ready message once it has, which piscina does not wait for with a new pool's
 * first workers (it counts them ready at once). Read by the balancer (ready-dispatch.ts: a task
 * handed to a first worker still loading stays counted as waiting) and by the watch of threads
 * that end before they are ready (unready-exits.ts: a thread that exits before its entry loaded
 * failed to start). Each used to listen for that message on the same threads itself; one
 * listener per thread now, attached as piscina makes it (thread-refusals.ts `onPiscinaThread`,
 * before piscina's own), serves both.
 */
import type { Worker } from 'node:worker_threads';
import { onPiscinaThread } from './thread-refusals.js';

/**
 * The key of the message a piscina worker posts once its entry has loaded (piscina 5.3 `READY`,
 * not exported).
 */
const READY_MESSAGE = '_WORKER_READY';

/** Is `message`, from a piscina thread, the one saying its entry has loaded? */
export function entryLoaded(message: unknown): boolean {
  return typeof message === 'object' && message !== null && READY_MESSAGE in message;
}

/** The threads whose entry has loaded. */
const loadedThreads = new WeakSet<Worker>();
/** What to call once a thread's entry has loaded, by thread (none once it has). */
const waiting = new WeakMap<Worker, Set<() => void>>();

// every thread piscina starts from the first pool on: this module is imported before any pool is
// made (piscina-factory.ts imports the balancer), and the seam calls listeners as threads are made
onPiscinaThread((thread) => {
  const onMessage = (message: unknown): void => {
    if (!entryLoaded(message)) return;
    thread.off('message', onMessage);
    loadedThreads.add(thread);
    const listeners = waiting.get(thread);
    waiting.delete(thread);
    for (const listener of listeners ?? []) listener();
  };
  thread.on('message', onMessage);
});

/** Has piscina thread `thread` loaded its entry (its ready message seen)? */
export function hasLoaded(thread: Worker): boolean {
  return loadedThreads.has(thread);
}

/**
 * Call `listener` once piscina thread `thread` has loaded its entry (at once if it has); returns
 * the undo (a thread that ends first never loads).
 */
export function whenLoaded(thread: Worker, listener: () => void): () => void {
  if (loadedThreads.has(thread)) {
    listener();
    return () => undefined;
  }
  let listeners = waiting.get(thread);
  if (!listeners) {
    listeners = new Set();
    waiting.set(thread, listeners);
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}
