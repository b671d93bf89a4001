/**
 * The vocabulary between the ingest pipeline and the commit: what one connector frame turned
 * into after the plugins, and what committing it decided (ack or not, what to deliver).
 */
import type { ErrorCode } from '../../core/errors.js';
import type { NewDelivery, QueuedDelivery } from './event-table.js';

/** A converted, hooked event ready to insert. */
export interface PreparedEvent extends NewDelivery {
  /** Per-event dedupe key, for frames without a bufferId. */
  readonly dedupeKey?: string;
}

/** What the plugins made of one frame. */
export type FrameOutcome =
  /** One or more events to commit (all or none). */
  | { readonly kind: 'events'; readonly events: readonly PreparedEvent[] }
  /** Handled, nothing to deliver (no events, or every event dropped by a hook). */
  | { readonly kind: 'consumed'; readonly reason: string }
  /** A final verdict that the input is bad: dead-letter it and ack. */
  | { readonly kind: 'poison'; readonly code: ErrorCode; readonly message: string }
  /** A crash, timeout or saturated pool: retry through redelivery, quarantine after maxAttempts. */
  | { readonly kind: 'transient'; readonly code: string; readonly message: string }
  /** Its key was already committed before the plugins ran. */
  | { readonly kind: 'duplicate' };

/** One frame travelling through the pipeline. */
export interface FrameJob {
  /** Arrival order; commits happen in this order. */
  readonly seq: number;
  /** The frame type (for logs and dead letters). */
  readonly type: string;
  /** The decoded frame, kept for dead letters (redacted before it is stored). */
  readonly frame: Record<string, unknown>;
  /** The connector's bufferId: a buffered frame, acked after commit. */
  readonly bufferId?: string;
  /** Frame-level dedupe key (from the bufferId). */
  readonly key?: string;
  /** When the sidecar received the frame, ms since the epoch. */
  readonly receivedAt: number;
  /** Set when this is a replay of a frame dead letter: no dedupe check, no ack, row removed. */
  readonly replayOf?: string;
  /** Called once the frame is settled (committed, or given up). */
  readonly onSettled?: () => void;
}

/** What committing one frame decided. */
export interface CommitDecision {
  /** Send `inbound_ack{bufferId}` now. */
  readonly ack: boolean;
  /** Rows committed, to hand to the scheduler. */
  readonly committed: readonly QueuedDelivery[];
  /** Their stored envelopes, in the same order (for the first attempt, without a read). */
  readonly envelopes?: readonly string[];
  /** The frame (or some of its events) was a duplicate of a committed one. */
  readonly duplicate: boolean;
  /**
   * The frame was dead-lettered: id and code; `redactionFailed` (the thrown error's name) when
   * its redaction threw and it was stored without body, query and headers.
   */
  readonly deadLetter?: { readonly id: string; readonly code: string; readonly redactionFailed?: string };
  /** A transient failure left the frame un-acked; the count so far. */
  readonly attempts?: number;
}
