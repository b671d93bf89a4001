/**
 * Delivery slots: how many deliveries may be in flight at once. Waiters are served in order,
 * priority waiters (interrupts, sessions back from a retry backoff) first.
 */
import { Fifo } from './fifo.js';

/** A counting semaphore with two waiting lines. */
export class SlotPool {
  private used = 0;
  private closed = false;
  private readonly normal = new Fifo<(ok: boolean) => void>();
  private readonly priority = new Fifo<(ok: boolean) => void>();

  constructor(private readonly size: number) {}

  /** Slots in use. */
  get inUse(): number {
    return this.used;
  }

  /** Resolve `true` once a slot is held, or `false` when the pool closes first. */
  acquire(priority: boolean): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.used < this.size) {
      this.used += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => (priority ? this.priority : this.normal).push(resolve));
  }

  /** Give a slot back; the next waiter (priority first) takes it over. */
  release(): void {
    const next = this.closed ? undefined : (this.priority.shift() ?? this.normal.shift());
    if (next) next(true);
    else this.used = Math.max(0, this.used - 1);
  }

  /** Refuse further acquisitions and wake every waiter with `false`. */
  close(): void {
    this.closed = true;
    for (const line of [this.priority, this.normal]) {
      for (let wake = line.shift(); wake; wake = line.shift()) wake(false);
    }
  }
}
