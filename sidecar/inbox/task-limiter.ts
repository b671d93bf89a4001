/**
 * At most `limit` frames inside the plugin pool at once; the rest wait here in arrival order.
 * This keeps a burst from overflowing the pool's queue (which would fail frames as "saturated"
 * even though they only had to wait).
 */
import { Fifo } from '../delivery/fifo.js';

/** A FIFO concurrency limiter for async tasks. */
export class TaskLimiter {
  private running = 0;
  // a started task leaves the queue at once: a slot still holding it would keep its closure, and
  // through it the task's result (a whole frame's events), alive until the array was compacted
  private readonly waiting = new Fifo<() => void>();

  constructor(private readonly limit: number) {}

  /** Run `task` when a slot is free; resolves or rejects with the task. */
  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running += 1;
        let settled: Promise<T>;
        try {
          settled = task();
        } catch (err) {
          settled = Promise.reject(err);
        }
        settled.then(resolve, reject).finally(() => this.release());
      };
      if (this.running < this.limit) start();
      else this.waiting.push(start);
    });
  }

  private release(): void {
    this.running -= 1;
    this.waiting.shift()?.();
  }
}
