/**
 * What to do after a socket closed (relay contract section 6, close code 4401). Pure: the
 * supervisor feeds it the facts and applies the decision.
 */

import type { BoundedLabel } from '../metrics/metrics.js';

/** The close code a connector uses to refuse the upgrade token. */
export const CLOSE_UNAUTHORIZED = 4401;
/** The 4401 reason meaning "your token aged": a fresh token fixes it. */
export const REASON_EXPIRED = 'expired';
/** Non-expired 4401 closes after a handshake that mean "revoked". */
export const REVOKE_STRIKES = 2;

/** The facts about one close. */
export interface CloseFacts {
  readonly code: number;
  readonly reason: string;
  /** Any connection of this transport completed a handshake before this close. */
  readonly everHandshaken: boolean;
  /** Non-expired 4401 strikes so far (reset when a connection has been stable). */
  readonly strikes: number;
}

/** The decision: redial after backoff, redial now with a fresh token, or give up. */
export type CloseDecision =
  | { readonly action: 'backoff'; readonly strikes: number }
  | { readonly action: 'immediate'; readonly strikes: number }
  | { readonly action: 'revoked'; readonly strikes: number };

/** Decide the next step after a close. */
export function decideAfterClose(facts: CloseFacts): CloseDecision {
  if (facts.code !== CLOSE_UNAUTHORIZED) return { action: 'backoff', strikes: facts.strikes };
  // Before any handshake a 4401 is the cold-start race (connector not yet provisioned): retry.
  if (!facts.everHandshaken) return { action: 'backoff', strikes: facts.strikes };
  if (facts.reason === REASON_EXPIRED) return { action: 'backoff', strikes: facts.strikes };
  const strikes = facts.strikes + 1;
  return strikes >= REVOKE_STRIKES ? { action: 'revoked', strikes } : { action: 'immediate', strikes };
}

/**
 * The metric label of a close code: the protocol's own codes (below 3000) and 4401 as such; the
 * codes a connector chooses (3000–4999, up to 2 000 series) through `bounded`.
 */
export function closeCodeLabel(code: number, bounded: BoundedLabel): string {
  return code < 3000 || code === CLOSE_UNAUTHORIZED ? String(code) : bounded.of(String(code));
}
