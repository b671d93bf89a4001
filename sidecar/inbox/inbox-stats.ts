/**
 * The inbox's figures for `/v1/status`: backlog, age of the oldest undelivered event, attempts in
 * flight, retained deliveries and the latest dead letters.
 */
import type { DeadLetterSummary } from './dead-letters.js';
import type { InboxStore } from './inbox-store.js';

/** Inbox figures for `/v1/status`. */
export interface InboxStats {
  /** Committed, not yet delivered (includes those in flight). */
  readonly pending: number;
  /** Age of the oldest of those, s (0 when none). */
  readonly oldest_age_s: number;
  /** Attempts in flight right now (push requests; pull deliveries awaiting their ack). */
  readonly inflight: number;
  /** Delivered rows still retained (`inbox.retainDeliveredMs`). */
  readonly delivered: number;
  /** Dead letters. */
  readonly dead: number;
  /** The latest 50 dead letters, newest first. */
  readonly dead_letters: readonly DeadLetterSummary[];
}

/** Read the figures (a few indexed queries; meant for status calls, not hot paths). */
export function inboxStats(store: InboxStore, inflight: number, now: number): InboxStats {
  const counts = store.events.counts();
  const oldest = store.events.oldestQueuedAt();
  const age = oldest === undefined ? 0 : Math.max(0, now - oldest) / 1000;
  return {
    pending: counts.pending,
    oldest_age_s: Math.round(age * 1000) / 1000,
    inflight,
    delivered: counts.delivered,
    dead: store.deadLetters.count(),
    dead_letters: store.deadLetters.list(50),
  };
}
