/**
 * The inbox's figures for `/v1/status`: backlog, age of the oldest undelivered event, attempts in
 * flight, retained deliveries, the latest dead letters, and whether the push agent is reachable.
 */
import type { AgentReach } from '../delivery/health-gate.js';
import type { DeadLetterSummary } from './dead-letters.js';
import type { InboxStore } from './inbox-store.js';

/** The push agent's reachability as `/v1/status` shows it (its top-level `agent`). */
export interface AgentStatus {
  /** False while only one probe at a time goes to the agent (docs/decisions.md). */
  readonly reachable: boolean;
  /** ISO time the agent was found unreachable; null while reachable. */
  readonly unreachable_since: string | null;
  /** The failure that showed it (`HTTP 503`, `ECONNREFUSED`, …); null while reachable. */
  readonly reason: string | null;
  /** Probes that failed since. */
  readonly failed_probes: number;
}

/** What the figures read from delivery. */
export interface DeliveryFigures {
  /** Attempts in flight. */
  readonly attempting: number;
  /** Push: the health gate's view; pull: undefined. */
  readonly agentReach: AgentReach | undefined;
}

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
  /** Push: the agent's reachability (lifted to the status body's top level); pull: null. */
  readonly agent: AgentStatus | null;
}

/** Read the figures (a few indexed queries; meant for status calls, not hot paths). */
export function inboxStats(store: InboxStore, delivery: DeliveryFigures, now: number): InboxStats {
  const counts = store.events.counts();
  const oldest = store.events.oldestQueuedAt();
  const age = oldest === undefined ? 0 : Math.max(0, now - oldest) / 1000;
  return {
    pending: counts.pending,
    oldest_age_s: Math.round(age * 1000) / 1000,
    inflight: delivery.attempting,
    delivered: counts.delivered,
    dead: store.deadLetters.count(),
    dead_letters: store.deadLetters.list(50),
    agent: agentStatus(delivery.agentReach),
  };
}

/** The gate's view in the status's words; null without a gate (pull mode). */
export function agentStatus(reach: AgentReach | undefined): AgentStatus | null {
  if (!reach) return null;
  return {
    reachable: reach.reachable,
    unreachable_since:
      reach.unreachableSince === undefined ? null : new Date(reach.unreachableSince).toISOString(),
    reason: reach.reason ?? null,
    failed_probes: reach.failedProbes,
  };
}
