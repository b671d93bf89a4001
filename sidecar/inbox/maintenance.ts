/**
 * Periodic upkeep of the inbox tables: dedupe keys bounded by age and count, attempt counters of
 * frames the connector gave up on, delivered rows past their retention, dead letters beyond
 * their cap. Each pass is a few indexed DELETEs.
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { type Database, migrate } from '../../core/store/database.js';
import { enableIncrementalVacuum } from '../../core/store/free-pages.js';
import { MAX_DEAD_LETTERS } from './dead-letters.js';
import { INBOX_MIGRATIONS } from './inbox-migrations.js';
import type { InboxStore } from './inbox-store.js';

/** Retention limits (from `config.inbox`). */
export interface RetentionLimits {
  readonly dedupeMaxAgeMs: number;
  readonly dedupeMaxEntries: number;
  readonly retainDeliveredMs: number;
  readonly maxDeadLetters?: number;
}

/** What one pass removed; `more` ⇒ a bound was reached and another pass is due at once. */
export interface PruneReport {
  readonly dedupe: number;
  readonly attempts: number;
  readonly delivered: number;
  readonly deadLetters: number;
  /** The oldest dead letter dropped past the cap, when any was. */
  readonly oldestDropped?: string;
  readonly more: boolean;
}

/**
 * Rows one pass deletes per table at most. A single unbounded DELETE of ~250 000 delivered rows
 * stalled the event loop for 565 ms (docs/benchmarks.md, F3); the caller runs passes on
 * successive turns until `more` is false. 500 dedupe keys take 1–2 ms a pass on a 250 000-key
 * table (2 000 took 4–8.5 ms, a stall that reached p99 at 1 000 events/s: F14).
 */
export const PRUNE_BATCH_ROWS = 500;

/** Run one bounded pruning pass. */
export function pruneInbox(
  store: InboxStore,
  limits: RetentionLimits,
  now: number,
  log: Logger,
  batch: number = PRUNE_BATCH_ROWS,
): PruneReport {
  const dedupe = store.dedupe.prune(now, limits.dedupeMaxAgeMs, limits.dedupeMaxEntries, batch);
  // a bufferId not redelivered within the dedupe horizon will not come back
  const attempts = store.attempts.prune(now, limits.dedupeMaxAgeMs);
  const delivered = store.events.pruneDelivered(now - limits.retainDeliveredMs, batch);
  // one transaction: dead letters dropped without their dead rows would leave those rows (and
  // their envelopes) behind for good, since nothing else prunes a dead row
  const dropped = store.db
    .transaction(() => {
      const gone = store.deadLetters.prune(limits.maxDeadLetters ?? MAX_DEAD_LETTERS);
      for (const letter of gone) if (letter.kind === 'delivery') store.events.forgetDead(letter.id);
      return gone;
    })
    .immediate();
  const more = dedupe >= batch || delivered >= batch;
  const oldestDropped = dropped[0]?.id;
  const report = {
    dedupe,
    attempts,
    delivered,
    deadLetters: dropped.length,
    more,
    ...(oldestDropped ? { oldestDropped } : {}),
  };
  if (dedupe + attempts + delivered > 0) log.debug(report, 'inbox pruned');
  return report;
}

/**
 * Live bytes up to which a store an older build created without incremental auto-vacuum is
 * converted at start (one VACUUM: ~0.5 s per 100 MiB, and as much free disk). A larger one is
 * left as it is, its file keeping its peak size: docs/operations.md, giving disk space back.
 */
export const CONVERT_MAX_LIVE_BYTES = 256 * 1024 * 1024;

/** At open: migrate the inbox's tables and, on a store the inbox opened itself, {@link convertForReclaim}. */
export function prepareStore(db: Database, owned: boolean, log: Logger): void {
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  if (owned) convertForReclaim(db, log);
}

/** At open: let a store from an older build give free pages back (free-pages.ts); never fails the start. */
export function convertForReclaim(db: Database, log: Logger): void {
  try {
    const done = enableIncrementalVacuum(db, CONVERT_MAX_LIVE_BYTES);
    if (done.outcome === 'converted')
      log.info({ ...done, file: db.name }, 'store converted to give free space back');
    if (done.outcome === 'too-large') {
      const fields = { ...done, maxLiveBytes: CONVERT_MAX_LIVE_BYTES, file: db.name };
      log.warn(fields, 'store too large to convert at start: its free space is not given back');
    }
  } catch (err) {
    // a busy reader or a full disk: the store works as before, the next start tries again
    log.warn({ error: errorMessage(err), file: db.name }, 'store conversion to give free space back failed');
  }
}
