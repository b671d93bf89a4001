/**
 * Counts the delivery work in progress — attempts and the durable bookkeeping after them — so a
 * bounded close can wait for it.
 */
import type { Clock } from '../../core/di/clock.js';
import { armWorkBound, type PauseMeter } from '../../core/di/pause-meter.js';

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

  /**
   * Resolve when nothing is in progress, or after `budgetMs` (of `meter`'s time when given: a
   * freeze ended a plain timer at the resume, before the agent's answer that came was read).
   */
  idle(budgetMs: number, meter?: PauseMeter): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const bound = armWorkBound(this.clock, budgetMs, resolve, meter);
      this.waiters.push(() => {
        bound.clear();
        resolve();
      });
    });
  }
}
