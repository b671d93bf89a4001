/**
 * Committing an interrupt straight to the inbox (one row, no plugins): an `interrupt_inbound`
 * from the connector, or one an embedder submits. Queued ahead of its session's messages.
 */
import type { Clock } from '../../core/di/clock.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import { encodeInterruptEnvelope, newDeliveryId, type OriginFrame } from './envelope.js';
import type { QueuedDelivery } from './event-table.js';
import type { InboxStore } from './inbox-store.js';

/** What an interrupt commit writes to and tells. */
export interface InterruptParts {
  readonly store: InboxStore;
  readonly scheduler: { enqueue(rows: readonly QueuedDelivery[]): void };
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/**
 * Commit one interrupt and queue it; with `dedupeKey`, only when the key is new (a duplicate is
 * counted). Returns its delivery id. Throws when the store fails.
 */
export function commitInterrupt(
  parts: InterruptParts,
  sessionKey: string,
  chatId: string | null,
  reason: string | null,
  frame: OriginFrame,
  dedupeKey?: string,
): string {
  const id = newDeliveryId();
  const now = parts.clock.now();
  const envelope = encodeInterruptEnvelope(id, sessionKey, now, { chat_id: chatId, reason }, { frame });
  const rows = parts.store.insertNow([{ id, type: 'interrupt', sessionKey, envelope }], now, dedupeKey);
  if (rows.length === 0) parts.metrics.duplicates.inc();
  parts.metrics.inboxDepth.inc(rows.length);
  parts.scheduler.enqueue(rows);
  return id;
}
