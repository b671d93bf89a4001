/**
 * The scheduler's view of the inbox rows ({@link DeliveryLedger}): attempts, delivered marks,
 * rejections and delivery dead letters. Writes go through a {@link WriteBatcher}, so the
 * bookkeeping of many deliveries finishing close together shares one transaction.
 *
 * Starting an attempt is a read: the attempt number comes from the saved count and the attempts
 * this process started (kept in memory until the row is delivered or dead), and is saved with the
 * next group commit while the send goes ahead — or with the delivered mark, when the delivery
 * finished before that commit ran (one row update instead of two at the ceiling). A crash inside
 * that window (at most `inbox.groupCommitMs`) can leave one attempt uncounted: the redelivery then
 * carries the same id with the same attempt number (docs/decisions.md).
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import type { DeliveryLedger } from '../delivery/delivery-target.js';
import { stampAttempt } from './envelope.js';
import type { EventTable } from './event-table.js';
import type { FreshEnvelopes } from './fresh-envelopes.js';
import type { InboxStore } from './inbox-store.js';
import type { WriteBatcher } from './write-batcher.js';

/** What a ledger works on. */
export interface LedgerParts {
  readonly store: InboxStore;
  readonly batcher: WriteBatcher;
  /** Envelopes of rows just committed (saved attempt 0): a first attempt reads nothing. */
  readonly fresh?: FreshEnvelopes;
  /** Epoch-ms clock for the rows' timestamps. */
  readonly now: () => number;
  readonly log: Logger;
  /** Most response actions stored (`agent.maxResponseActions`); default no bound. */
  readonly maxOutbox?: number;
}

/** A ledger over `store`. */
export function deliveryLedger(parts: LedgerParts): DeliveryLedger {
  const { store, batcher, fresh, now, log } = parts;
  const { events, deadLetters, outbox } = store;
  const maxOutbox = parts.maxOutbox ?? Number.POSITIVE_INFINITY;
  // deliveries waiting for room in the outbox: all go when there is room for one (each attempt
  // holds a slot, so at most agent.concurrency answers pass the bound)
  const roomWaiters = new Set<() => void>();
  outbox.onSize(() => {
    if (roomWaiters.size === 0 || !outbox.hasRoom(maxOutbox)) return;
    for (const wake of roomWaiters) wake();
    roomWaiters.clear();
  });
  // attempts started by this process, per row still pending (bounded by the rows being tried)
  const started = new Map<string, number>();
  // attempts whose count is not saved yet: a delivered mark that gets there first saves it
  // instead, so a delivery answered within one group commit costs one row update, not two
  const unsaved = new Set<string>();
  const done = (id: string) => {
    started.delete(id);
    fresh?.take(id);
  };
  const read = (id: string) => {
    const envelope = fresh?.take(id);
    return envelope === undefined ? events.peek(id) : { attempt: 0, envelope };
  };
  return {
    begin: (id) => {
      const row = read(id);
      if (!row) {
        done(id);
        return undefined;
      }
      const attempt = Math.max(row.attempt, started.get(id) ?? 0) + 1;
      started.set(id, attempt);
      unsaved.add(id);
      batcher
        .run(() => {
          // the latest count: a retry begun before this commit ran is saved here too
          if (unsaved.delete(id)) events.recordAttempt(id, started.get(id) ?? attempt, now());
        })
        .catch((err: unknown) => {
          // only the count is lost: the row itself is pending and will be delivered
          log.debug({ id, error: errorMessage(err) }, 'attempt count not saved');
        });
      return stampAttempt(row.envelope, attempt);
    },
    delivered: (id, response) => {
      const attempt = started.get(id) ?? 0;
      unsaved.delete(id);
      done(id);
      if (!response) return batcher.run(() => events.markDelivered(id, now(), attempt));
      // the actions' rows are held from now, so checks made before this commit count them
      const count = response.actions.length;
      outbox.reserve(count);
      let written = false;
      const mark = batcher.run(() => {
        const createdAt = events.markDelivered(id, now(), attempt);
        written = createdAt !== undefined;
        if (written) outbox.insert(response.sessionKey, id, response.actions);
        return createdAt;
      });
      // a group that rolled back is run again op by op: `written` is the last run's
      return mark.then(
        (createdAt) => {
          outbox.release(count, written);
          return createdAt;
        },
        (err: unknown) => {
          outbox.release(count, false);
          throw err;
        },
      );
    },
    outboxRoom: () =>
      outbox.hasRoom(maxOutbox) ? undefined : new Promise<void>((resolve) => roomWaiters.add(resolve)),
    rejected: (id) => batcher.run(() => events.reject(id, now())),
    deadLetter: (id, code, message) => {
      done(id);
      return batcher.run(() => {
        const at = now();
        if (!events.markDead(id, at)) return false;
        deadLetters.add({ id, kind: 'delivery', code, message, payload: { delivery_id: id } }, at);
        return true;
      });
    },
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
