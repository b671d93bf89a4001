/**
 * Counts the delivery work in progress — attempts and the durable bookkeeping after them — so a
 * bounded close can wait for it.
 */
import type { Clock } from '../../core/di/clock.js';

/** A counter of work in progress with a bounded wait for zero. */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly clock: Clock) {}

  /** Work in progress now. */
  get size(): number {
    return this.count;
  }

  /** One more piece of work started. */
  enter(): void {
    this.count += 1;
  }

  /** One piece of work ended. */
  leave(): void {
    this.count -= 1;
    if (this.count > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Count `work` until it settles. */
  track(work: Promise<unknown>): void {
    this.enter();
    void work.finally(() => this.leave());
  }

  /** Resolve when nothing is in progress, or after `budgetMs`. */
  idle(budgetMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(resolve, budgetMs);
      this.waiters.push(() => {
        this.clock.clearTimeout(timer);
        resolve();
      });
    });
  }
}
