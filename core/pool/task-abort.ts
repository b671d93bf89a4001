/**
 * The abort handle of one pool task, in the EventEmitter form piscina accepts (`once` / `off` /
 * `removeListener`). An `AbortController` per task cost more than the task's own bookkeeping: the
 * `abort` listener piscina adds to its EventTarget kept each task's objects alive through the next
 * young-generation GC (measured: ~40 % of what a pool round trip left behind per scavenge).
 * piscina adds exactly one listener per task and removes it when the task settles.
 */
export class TaskAbort {
  /** Read by piscina before it queues the task. */
  aborted = false;
  private listener: (() => void) | undefined;

  once(_event: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  off(_event: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }

  removeListener(event: 'abort', listener: () => void): void {
    this.off(event, listener);
  }

  /** Abort the task (piscina then terminates its worker); idempotent. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }
}
