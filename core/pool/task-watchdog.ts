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
 *
 * A process that was stopped (SIGSTOP, a VM pause, a laptop sleep) stops its workers too, but the
 * monotonic clock runs on: on resume every budget looks long past, and a plugin that did nothing
 * wrong would be terminated and its frame, after its attempts, quarantined. The stop shows as
 * this timer firing late, so a timer {@link PAUSE_DETECT_MS} or more late restarts the budgets
 * from the resume instead of expiring them. A main thread that stalls that long (it should never)
 * looks the same; the restarts are bounded per task ({@link MAX_PAUSE_RESTARTS}) so such stalls
 * cannot keep a hung plugin alive for ever.
 */
import { MAX_PAUSES, PAUSE_DETECT_MS } from '../di/deadline.js';
import type { Logger } from '../log/logger.js';
import { monotonicMs, type ProgressSlots, type SlotLease, type SlotProgress } from './progress-slots.js';

/** Extra time a task may wait for a worker beyond its budgets, ms. */
export const QUEUE_WAIT_ALLOWANCE_MS = 10_000;

/** How late (ms) this timer must fire to count as a stopped process: the deadlines' threshold. */
export { PAUSE_DETECT_MS };

/** Pauses forgiven per task (the deadlines' bound); past them a late timer is charged like any other. */
export const MAX_PAUSE_RESTARTS = MAX_PAUSES;

/** Optional parts of a {@link TaskWatchdog}. */
export interface WatchdogOptions {
  /** Extra queue wait beyond the budgets, ms; default {@link QUEUE_WAIT_ALLOWANCE_MS}. */
  readonly queueAllowanceMs?: number;
  /** Told when a pause restarted the budgets, with how late the timer fired (ms). */
  readonly onPause?: (lateMs: number) => void;
  /** The monotonic clock (ms); default {@link monotonicMs}. Tests inject a stepped one. */
  readonly now?: () => number;
}

/** Why a watched task expired. */
export type Expiry =
  | { readonly started: true; readonly at: SlotProgress; readonly budgetMs: number }
  | { readonly started: false; readonly budgetMs: number };

/** Watches one task; calls `onExpire` once when a budget is exceeded. */
export class TaskWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly onPause: ((lateMs: number) => void) | undefined;
  private readonly submittedAt: number;
  private readonly queueBudgetMs: number;
  private readonly minBudgetMs: number;
  /** When the timer should fire ({@link now}); a later firing means the process was stopped. */
  private dueAt = 0;
  /** When the last pause ended: no budget is counted from before it. */
  private resumedAt = Number.NEGATIVE_INFINITY;
  private pauses = 0;
  /** Set once the watchdog fired. */
  expiry: Expiry | undefined;

  /**
   * @param budgets per batch item, per chain position, ms (`timeoutMs` of each plugin).
   * @param onExpire aborts the task (piscina then terminates its worker).
   */
  constructor(
    private readonly slots: ProgressSlots,
    private readonly lease: SlotLease,
    private readonly budgets: readonly (readonly number[])[],
    private readonly onExpire: (expiry: Expiry) => void,
    options: WatchdogOptions = {},
  ) {
    this.now = options.now ?? monotonicMs;
    this.onPause = options.onPause;
    this.submittedAt = this.now();
    let total = options.queueAllowanceMs ?? QUEUE_WAIT_ALLOWANCE_MS;
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
    const ms = Math.max(1, delayMs);
    this.dueAt = this.now() + ms;
    // kept ref'd: it is what bounds a task that holds nothing else alive (a never-settling promise)
    this.timer = setTimeout(() => this.check(), ms);
  }

  private check(): void {
    const now = this.now();
    const lateMs = now - this.dueAt;
    if (lateMs >= PAUSE_DETECT_MS && this.pauses < MAX_PAUSE_RESTARTS) {
      this.pauses++;
      this.resumedAt = now;
      this.onPause?.(lateMs);
    }
    const at = this.slots.progress(this.lease);
    if (at === undefined) {
      const left = Math.max(this.submittedAt, this.resumedAt) + this.queueBudgetMs - now;
      if (left <= 0) this.expire({ started: false, budgetMs: this.queueBudgetMs });
      else this.arm(Math.min(left, this.minBudgetMs));
      return;
    }
    const budgetMs = this.budgets[at.item]?.[at.position] ?? 0;
    const left = Math.max(this.slots.startedAt(this.lease), this.resumedAt) + budgetMs - now;
    if (left <= 0) this.expire({ started: true, at, budgetMs });
    else this.arm(Math.min(left, this.minBudgetMs));
  }

  private expire(expiry: Expiry): void {
    this.timer = undefined;
    this.expiry = expiry;
    this.onExpire(expiry);
  }
}

/** Logs a process pause once, not once per task in flight (every watchdog sees the same pause). */
export class PauseLog {
  /** When a pause was last logged ({@link monotonicMs}). */
  private loggedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly log: Logger) {}

  /** A watchdog saw its timer fire `lateMs` late. */
  noticed(lateMs: number): void {
    const now = monotonicMs();
    if (now - this.loggedAt < PAUSE_DETECT_MS) return;
    this.loggedAt = now;
    this.log.warn({ lateMs: Math.round(lateMs) }, 'process pause detected; plugin budgets restarted');
  }
}
