/**
 * The seam between the scheduler and a way of reaching the agent (push over HTTP, pull over
 * SSE), and between the scheduler and the durable rows it moves along.
 */
import { errorMessage } from '../../core/errors.js';
import type { DeliveryType } from '../inbox/envelope.js';

/** One attempt to hand one delivery to the agent. */
export interface DeliveryJob {
  readonly id: string;
  readonly type: DeliveryType;
  readonly sessionKey: string;
  /**
   * Start an attempt: count it and return the envelope JSON to send (stamped with the attempt
   * number). Undefined ⇒ the row is no longer deliverable (already acked or dead).
   */
  begin(): string | undefined;
}

/** How an attempt ended. */
export type DeliveryResult =
  /** The agent took it (2xx, or an SSE ack); `actions` from a push response body, in order. */
  | { readonly kind: 'delivered'; readonly actions: readonly unknown[] }
  /** Down or busy (5xx, 408, 429, timeout, refused): try again after a backoff. */
  | {
      readonly kind: 'retry';
      readonly reason: string;
      readonly status?: number;
      readonly retryAfterMs?: number;
      /** The sidecar failed before anything reached the agent: says nothing of its health. */
      readonly local?: true;
    }
  /** The agent refused this delivery (4xx other than 408/429). */
  | { readonly kind: 'rejected'; readonly status: number }
  /** The row was no longer deliverable when the attempt began. */
  | { readonly kind: 'gone' }
  /** The target is closing; the row stays queued on disk for the next start. */
  | { readonly kind: 'cancelled' };

/**
 * Begin `job`'s attempt: the body to send, or the result that ends the attempt before anything
 * is sent (`gone`; `retry` when the store could not be read, so the scheduler tries again after
 * a backoff instead of the delivery waiting for something else to happen).
 */
export function beginAttempt(job: DeliveryJob): string | DeliveryResult {
  try {
    return job.begin() ?? { kind: 'gone' };
  } catch (err) {
    return { kind: 'retry', reason: `attempt not recorded: ${errorMessage(err)}`, local: true };
  }
}

/** A way of reaching the agent. `deliver` never rejects. */
export interface DeliveryTarget {
  deliver(job: DeliveryJob): Promise<DeliveryResult>;
  /** Abort what is in flight (those attempts end `cancelled`) and release sockets and timers. */
  close(): Promise<void>;
}

/** A push response's actions, stored with the delivered mark. */
export interface ResponseActions {
  readonly sessionKey: string;
  readonly actions: readonly unknown[];
}

/** The durable side of delivery (implemented by the inbox). Each promise settles once durable. */
export interface DeliveryLedger {
  /**
   * Start an attempt: the envelope JSON stamped with its attempt number, or undefined when the
   * row is no longer deliverable. The count is saved with the next group commit (not awaited).
   */
  begin(id: string): string | undefined;
  /**
   * Mark delivered (durably, before anything else); the commit time, or undefined if it was not
   * pending. A push response's actions are written to the outbox in the same transaction.
   */
  delivered(id: string, response?: ResponseActions): Promise<number | undefined>;
  /**
   * Undefined while the outbox has room for another response's actions; when it holds
   * `agent.maxResponseActions`, a promise that resolves once it has room again.
   */
  outboxRoom(): Promise<void> | undefined;
  /** Count a rejection; the total so far. */
  rejected(id: string): Promise<number | undefined>;
  /** Move to the dead-letter table; false when the row was not pending. */
  deadLetter(id: string, code: string, message: string): Promise<boolean>;
}
