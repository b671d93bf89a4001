/**
 * Per-plugin timeouts for chains run inside one pool task. Each plugin gets its own `timeoutMs`
 * from the moment it starts (read from the task's progress slot), so a plugin stuck in a loop is
 * terminated after ITS budget, not after the sum of the batch's. A task still waiting for a worker
 * after the sum of all budgets plus {@link QUEUE_WAIT_ALLOWANCE_MS} expires too (the pool is
 * saturated); the allowance covers a replacement worker booting after a crash.
 *
 * Only slow tasks cost anything beyond one timer: the timer re-arms when it fires early. The
 * running position can change at any moment, so the timer never sleeps longer than the smallest
 * budget of the task: a plugin is caught at most that late.
 */
import { monotonicMs, type ProgressSlots, type SlotLease, type SlotProgress } from './progress-slots.js';

/** Extra time a task may wait for a worker beyond its budgets, ms. */
export const QUEUE_WAIT_ALLOWANCE_MS = 10_000;

/** Why a watched task expired. */
export type Expiry =
  | { readonly started: true; readonly at: SlotProgress; readonly budgetMs: number }
  | { readonly started: false; readonly budgetMs: number };

/** Watches one task; calls `onExpire` once when a budget is exceeded. */
export class TaskWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private readonly submittedAt = monotonicMs();
  private readonly queueBudgetMs: number;
  private readonly minBudgetMs: number;
  /** Set once the watchdog fired. */
  expiry: Expiry | undefined;

  /**
   * @param budgets per batch item, per chain position, ms (`timeoutMs` of each plugin).
   * @param onExpire aborts the task (piscina then terminates its worker).
   * @param queueAllowanceMs extra queue wait beyond the budgets, ms.
   */
  constructor(
    private readonly slots: ProgressSlots,
    private readonly lease: SlotLease,
    private readonly budgets: readonly (readonly number[])[],
    private readonly onExpire: (expiry: Expiry) => void,
    queueAllowanceMs = QUEUE_WAIT_ALLOWANCE_MS,
  ) {
    let total = queueAllowanceMs;
    let min = Number.POSITIVE_INFINITY;
    for (const item of budgets) {
      for (const ms of item) {
        total += ms;
        min = Math.min(min, ms);
      }
    }
    this.queueBudgetMs = total;
    this.minBudgetMs = Math.min(min, total);
    this.arm(this.minBudgetMs);
  }

  /** Stop watching (the task settled). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delayMs: number): void {
    // kept ref'd: it is what bounds a task that holds nothing else alive (a never-settling promise)
    this.timer = setTimeout(() => this.check(), Math.max(1, delayMs));
  }

  private check(): void {
    const now = monotonicMs();
    const at = this.slots.progress(this.lease);
    if (at === undefined) {
      const left = this.submittedAt + this.queueBudgetMs - now;
      if (left <= 0) this.expire({ started: false, budgetMs: this.queueBudgetMs });
      else this.arm(Math.min(left, this.minBudgetMs));
      return;
    }
    const budgetMs = this.budgets[at.item]?.[at.position] ?? 0;
    const left = this.slots.startedAt(this.lease) + budgetMs - now;
    if (left <= 0) this.expire({ started: true, at, budgetMs });
    else this.arm(Math.min(left, this.minBudgetMs));
  }

  private expire(expiry: Expiry): void {
    this.timer = undefined;
    this.expiry = expiry;
    this.onExpire(expiry);
  }
}
