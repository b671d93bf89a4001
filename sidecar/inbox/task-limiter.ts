/**
 * At most `limit` frames inside the plugin pool at once; the rest wait here in arrival order.
 * This keeps a burst from overflowing the pool's queue (which would fail frames as "saturated"
 * even though they only had to wait).
 */

/** A FIFO concurrency limiter for async tasks. */
export class TaskLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private waitHead = 0;

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
    if (this.waitHead < this.waiting.length) {
      const start = this.waiting[this.waitHead]!;
      this.waitHead += 1;
      // compact now and then so the array does not grow without bound
      if (this.waitHead > 1024 && this.waitHead * 2 > this.waiting.length) {
        this.waiting.splice(0, this.waitHead);
        this.waitHead = 0;
      }
      start();
    }
  }
}
