/**
 * The scheduler's view of the inbox rows ({@link DeliveryLedger}): attempts, delivered marks,
 * rejections and delivery dead letters. Writes go through a {@link WriteBatcher}, so the
 * bookkeeping of many deliveries finishing in the same turn shares one transaction.
 */
import type { DeliveryLedger } from '../delivery/delivery-target.js';
import { stampAttempt } from './envelope.js';
import type { EventTable } from './event-table.js';
import type { InboxStore } from './inbox-store.js';
import type { WriteBatcher } from './write-batcher.js';

/** A ledger over `store`, stamping times from `now`. */
export function deliveryLedger(store: InboxStore, batcher: WriteBatcher, now: () => number): DeliveryLedger {
  const { events, deadLetters } = store;
  return {
    begin: (id) =>
      batcher.run(() => {
        const row = events.begin(id, now());
        return row && stampAttempt(row.envelope, row.attempt);
      }),
    delivered: (id) => batcher.run(() => events.markDelivered(id, now())),
    rejected: (id) => batcher.run(() => events.reject(id, now())),
    deadLetter: (id, code, message) =>
      batcher.run(() => {
        const at = now();
        if (!events.markDead(id, at)) return false;
        deadLetters.add({ id, kind: 'delivery', code, message, payload: { delivery_id: id } }, at);
        return true;
      }),
  };
}

/**
 * Pull: an ack for an id that is not outstanding in memory — sent before a restart, or acked
 * twice. A row already delivered is `acked-before`; a pending row that was sent at least once is
 * marked delivered now (`acked-now`); anything else (never sent, unknown, dead) is `unknown`.
 */
export function acceptLateAck(
  events: EventTable,
  id: string,
  now: number,
): 'acked-now' | 'acked-before' | 'unknown' {
  if (events.stateOf(id) === 'delivered') return 'acked-before';
  const row = events.queuedOne(id);
  if (!row || row.attempt === 0) return 'unknown';
  return events.markDelivered(id, now) === undefined ? 'acked-before' : 'acked-now';
}
