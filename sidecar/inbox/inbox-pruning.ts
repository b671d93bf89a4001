/**
 * The inbox's pruning, in bounded passes that continue on the next turns (never one long stall):
 * every {@link PRUNE_EVERY_MS} the whole set (dedupe keys by age and count, attempt counts,
 * delivered rows, dead letters past their cap), and the dedupe keys alone as soon as they pass
 * their cap by more than {@link dedupeSlack}.
 */
import type { Config } from '../../core/config/schema.js';
import type { Clock } from '../../core/di/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { InboxStore } from './inbox-store.js';
import { PRUNE_BATCH_ROWS, pruneInbox } from './maintenance.js';
import { StoreWatch } from './store-watch.js';

/** Interval of the whole pruning pass, ms. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Dedupe keys allowed past `inbox.dedupeMaxEntries` before a prune runs at once rather than at the
 * next minute: the in-memory fingerprint set grows with the keys and never shrinks, so a minute at
 * 10 000 events/s would leave it sized for 800 000 keys (16 MiB) instead of 200 000 (4 MiB).
 */
const dedupeSlack = (cap: number) => Math.max(PRUNE_BATCH_ROWS, Math.ceil(cap / 100));

/** What pruning needs. */
export interface InboxPruningDeps {
  readonly store: InboxStore;
  readonly limits: Config['inbox'];
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** True once the inbox closes: passes stop. */
  readonly closing: () => boolean;
}

/** Log a failed upkeep step (pruning, replay); the next pass or upkeep tries again. */
export function reportUpkeepFailed(log: Logger, metrics: Metrics, err: unknown): void {
  const fields = { error: errorMessage(err) };
  reportError(log, metrics, 'CORE_ERR_INBOX_UPKEEP_FAILED', 'inbox upkeep failed', fields, 'error');
}

/** The pruning of one inbox. */
export class InboxPruning {
  private lastPrune = 0;
  private dedupePruning = false;
  private readonly watch: StoreWatch;

  constructor(private readonly deps: InboxPruningDeps) {
    this.watch = new StoreWatch(deps.store.db, deps.log, deps.metrics, () => deps.store.refuseCommits());
    deps.store.guardCommits(() => this.watch.verify());
    // at open, before any key is stamped: the time since the newest key is not counted as age
    deps.store.dedupe.observeClock(deps.clock.now());
  }

  /** From the upkeep timer: the whole pass when its interval has passed since the last. */
  due(now: number): void {
    try {
      this.watch.check();
    } catch (err) {
      reportUpkeepFailed(this.deps.log, this.deps.metrics, err); // pruning goes on
    }
    // before any pruning: a forward step of the wall clock must not age the dedupe keys
    this.deps.store.dedupe.observeClock(now);
    // a wall clock set back (now before the last pass) restarts the cadence: waiting for the
    // time of the last pass again suspended pruning (delivered rows, the dead-letter cap) for
    // as long as the step
    if (now - this.lastPrune < PRUNE_EVERY_MS && now >= this.lastPrune) return;
    this.lastPrune = now;
    this.prunePass(now);
  }

  /** After each commit: start pruning dedupe keys once they pass their cap by more than the slack. */
  boundDedupe(): void {
    const cap = this.deps.limits.dedupeMaxEntries;
    if (this.dedupePruning || this.deps.store.dedupe.size <= cap + dedupeSlack(cap)) return;
    this.dedupePruning = true;
    setImmediate(() => this.dedupePass());
  }

  /** One bounded pruning pass; a backlog continues on the next turns, never in one stall. */
  private prunePass(now: number): void {
    const { store, limits, log, metrics } = this.deps;
    if (this.deps.closing()) return;
    try {
      const report = pruneInbox(store, limits, now, log);
      if (report.deadLetters > 0) {
        const fields = { dropped: report.deadLetters, oldest: report.oldestDropped };
        const msg = 'dead letters beyond the cap were dropped';
        reportError(log, metrics, 'CORE_ERR_INBOX_DEAD_LETTERS_DROPPED', msg, fields);
      }
      if (report.more) setImmediate(() => this.prunePass(now));
    } catch (err) {
      reportUpkeepFailed(log, metrics, err);
    }
  }

  /**
   * One bounded pass over the dedupe keys; continues on the next turns while it removes a full
   * batch. Not {@link prunePass}: its other tables (a COUNT(*) of up to 100 000 dead letters
   * among them) need not run on every overshoot, which comes several times a second at the ceiling.
   */
  private dedupePass(): void {
    const { dedupeMaxAgeMs, dedupeMaxEntries } = this.deps.limits;
    try {
      if (!this.deps.closing()) {
        const now = this.deps.clock.now();
        this.deps.store.dedupe.observeClock(now);
        const removed = this.deps.store.dedupe.prune(now, dedupeMaxAgeMs, dedupeMaxEntries, PRUNE_BATCH_ROWS);
        if (removed >= PRUNE_BATCH_ROWS) {
          setImmediate(() => this.dedupePass());
          return;
        }
      }
    } catch (err) {
      reportUpkeepFailed(this.deps.log, this.deps.metrics, err);
    }
    this.dedupePruning = false;
  }
}
