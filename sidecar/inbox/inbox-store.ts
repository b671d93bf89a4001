/**
 * The inbox's durable state on one SQLite handle, and the commit rule: everything one frame
 * produced (its events, its dedupe key, its dead letter or attempt count) is written in one
 * transaction, and several ready frames share one transaction (group commit) under load.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { RelayError } from '../../core/errors.js';
import { AgingClock } from './aging-clock.js';
import { DeadLetters } from './dead-letters.js';
import { DedupeTable, newestDedupeKey } from './dedupe-table.js';
import { newDeadLetterId } from './envelope.js';
import { EventTable, type QueuedDelivery } from './event-table.js';
import { FrameAttempts, newestAttempt } from './frame-attempts.js';
import type { CommitDecision, FrameJob, FrameOutcome } from './frame-outcome.js';
import { OutboxTable } from './outbox-table.js';
import { redactFrame, redactFrameWhole } from './redact-frame.js';

/** Limits the commit rule needs. */
export interface CommitLimits {
  /** Transient failures of one bufferId before quarantine (`inbox.maxAttempts`). */
  readonly maxAttempts: number;
}

/** All inbox tables on one handle, plus the frame commit. */
export class InboxStore {
  readonly events: EventTable;
  readonly dedupe: DedupeTable;
  readonly attempts: FrameAttempts;
  readonly deadLetters: DeadLetters;
  /** Push response actions waiting to run. */
  readonly outbox: OutboxTable;
  /** Set for good once the file at the store's path is not this handle's ({@link refuseCommits}). */
  private refusal: RelayError | undefined;
  /** Run before each commit: checks the file at the path ({@link guardCommits}). */
  private guard: (() => void) | undefined;
  private readonly batch: BetterSqlite3.Transaction<
    (items: readonly [FrameJob, FrameOutcome][], now: number) => CommitDecision[]
  >;

  /**
   * @param redact what a dead letter keeps of a frame (a test's throwing one proves the commit
   *   fails closed; redact-frame.ts otherwise)
   */
  constructor(
    readonly db: BetterSqlite3.Database,
    private readonly limits: CommitLimits,
    private readonly redact: (frame: Record<string, unknown>) => Record<string, unknown> = redactFrame,
  ) {
    this.events = new EventTable(db);
    // one aging clock for the keys and the attempt counts: the time since the newer of both at
    // open is not counted as age
    const newest = [newestDedupeKey(db), newestAttempt(db)].filter((at) => at !== null);
    const clock = new AgingClock(newest.length > 0 ? Math.max(...newest) : null);
    this.dedupe = new DedupeTable(db, clock);
    this.attempts = new FrameAttempts(db, clock);
    this.deadLetters = new DeadLetters(db);
    this.outbox = new OutboxTable(db);
    this.batch = db.transaction((items: readonly [FrameJob, FrameOutcome][], now: number) =>
      items.map(([job, outcome]) => this.apply(job, outcome, now)),
    );
  }

  /** True once commits are refused because the store file was replaced or deleted. */
  get replaced(): boolean {
    return this.refusal !== undefined;
  }

  /**
   * The store file at its path is no longer the one this handle writes (moved, copied over,
   * deleted): what would be committed from now on is lost at the next start, so every commit is
   * refused as the store being unavailable (`isStoreUnavailable`: frames held unacked), until the
   * process restarts. Deliveries of rows already committed go on (their marks are not commits).
   */
  refuseCommits(): void {
    this.refusal ??= new RelayError(
      'CORE_ERR_STORE_REPLACED',
      'the store file was replaced or deleted while running; commits refused until a restart',
    );
  }

  /**
   * Run `guard` before every commit: it calls {@link refuseCommits} when the file at the path is
   * no longer this handle's, so the commit that would have gone into it is refused, not acked.
   */
  guardCommits(guard: () => void): void {
    this.guard = guard;
  }

  /** Commit several frames in one transaction, in the given order. Throws when SQLite fails. */
  commitBatch(items: readonly [FrameJob, FrameOutcome][], now: number): CommitDecision[] {
    this.guard?.();
    if (this.refusal) throw this.refusal;
    // IMMEDIATE: take the write lock up front (waiting out busy_timeout). A deferred transaction
    // that reads first fails at once with SQLITE_BUSY when a pool worker wrote the store meanwhile.
    return this.dedupe.track(() => this.batch.immediate(items, now));
  }

  /**
   * Commit standalone rows (interrupts) in one transaction; with `dedupeKey`, only when the key
   * is new (remembered in the same transaction), else nothing.
   */
  insertNow(
    rows: readonly Parameters<EventTable['insert']>[0][],
    now: number,
    dedupeKey?: string,
  ): QueuedDelivery[] {
    this.guard?.();
    if (this.refusal) throw this.refusal;
    const insert = this.db.transaction(() => {
      if (dedupeKey !== undefined && !this.dedupe.add(dedupeKey, now)) return [];
      return rows.map((row) => this.events.insert(row, now));
    });
    return this.dedupe.track(() => insert.immediate());
  }

  /** Decide and write one frame. Runs inside the batch transaction. */
  private apply(job: FrameJob, outcome: FrameOutcome, now: number): CommitDecision {
    const buffered = job.bufferId !== undefined && job.replayOf === undefined;
    if (outcome.kind === 'duplicate') return { ack: buffered, committed: [], duplicate: true };
    // Re-checked here, not only before the plugins: two copies may have been in flight at once.
    // A frame that is done with is remembered by the same statement that checks it; a transient
    // failure is not remembered (the frame comes again).
    if (job.key && !job.replayOf) {
      const fresh = outcome.kind === 'transient' ? !this.dedupe.has(job.key) : this.dedupe.add(job.key, now);
      if (!fresh) return { ack: buffered, committed: [], duplicate: true };
    }
    switch (outcome.kind) {
      case 'events': {
        let duplicate = false;
        const committed: QueuedDelivery[] = [];
        const envelopes: string[] = [];
        for (const event of outcome.events) {
          if (event.dedupeKey && !this.dedupe.add(event.dedupeKey, now) && !job.replayOf) {
            duplicate = true;
            continue;
          }
          committed.push(this.events.insert(event, now));
          envelopes.push(event.envelope);
        }
        this.settle(job, now);
        return { ack: buffered, committed, envelopes, duplicate };
      }
      case 'consumed':
        this.settle(job, now);
        return { ack: buffered, committed: [], duplicate: false };
      case 'poison':
        return this.deadLetter(job, outcome.code, outcome.message, now, buffered);
      case 'transient':
        return this.transient(job, outcome.code, outcome.message, now, buffered);
    }
  }

  /** A frame is done with: remember a replay's key, drop its attempt count and its replayed dead letter. */
  private settle(job: FrameJob, now: number): void {
    // a frame that is not a replay was remembered when it was checked (apply)
    if (job.key && job.replayOf) this.dedupe.add(job.key, now);
    if (job.bufferId) this.attempts.clear(job.bufferId);
    if (job.replayOf) this.deadLetters.remove(job.replayOf);
  }

  private deadLetter(
    job: FrameJob,
    code: string,
    message: string,
    now: number,
    ack: boolean,
  ): CommitDecision {
    const id = job.replayOf ?? newDeadLetterId();
    // rare path: remembered here whatever happened before (a repeat add is a no-op)
    if (job.key) this.dedupe.add(job.key, now);
    if (job.bufferId) this.attempts.clear(job.bufferId);
    // a redaction that throws fails closed, here inside the transaction: the throw rolled the
    // commit back (dedupe key, attempt count), so a buffered frame failed again at every
    // redelivery, never acked, and a live one was lost
    let frame: Record<string, unknown>;
    let redactionFailed: string | undefined;
    try {
      frame = this.redact(job.frame);
    } catch (err) {
      frame = redactFrameWhole(job.frame);
      // its name alone: a message may quote the body (V8's JSON.parse does)
      redactionFailed = err instanceof Error ? err.name : typeof err;
    }
    this.deadLetters.add({ id, kind: 'frame', code, message, payload: { frame } }, now);
    const deadLetter = { id, code, ...(redactionFailed === undefined ? {} : { redactionFailed }) };
    return { ack, committed: [], duplicate: false, deadLetter };
  }

  private transient(
    job: FrameJob,
    code: string,
    message: string,
    now: number,
    buffered: boolean,
  ): CommitDecision {
    // A live frame is never redelivered and a replay runs once: keep them as dead letters so
    // nothing is lost, rather than leaving them to a redelivery that will not come.
    if (!buffered || !job.bufferId) return this.deadLetter(job, code, message, now, false);
    const attempts = this.attempts.bump(job.bufferId, now);
    if (attempts < this.limits.maxAttempts) return { ack: false, committed: [], duplicate: false, attempts };
    const why = `quarantined after ${attempts} transient failures; last: ${code}: ${message}`;
    return { ...this.deadLetter(job, 'CORE_ERR_PLUGIN_QUARANTINED', why, now, true), attempts };
  }
}
