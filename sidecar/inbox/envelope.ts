/**
 * The delivery envelope (agent-api.md "Deliveries"): what the agent receives, in push and pull.
 *
 * Envelopes are stored as JSON with `attempt: 0` and stamped with the real attempt number when
 * sent, so a redelivery carries the same id and a higher attempt without re-encoding the event.
 */
import { randomFillSync } from 'node:crypto';
import { monotonicFactory, type PRNG } from 'ulid';
import type { MessageEvent } from '../../core/protocol/payloads.js';

/** The frame (or local call) an event came from. */
export type OriginFrame = 'inbound' | 'passthrough_forward' | 'interrupt_inbound' | 'local';

/** Where an event came from: the frame type, the converting plugin, the connector's bufferId. */
export interface EnvelopeOrigin {
  readonly frame: OriginFrame;
  readonly plugin?: string;
  readonly buffer_id?: string;
}

/** A message delivery. */
export interface MessageEnvelope {
  readonly id: string;
  readonly type: 'message';
  readonly session_key: string;
  /** When the sidecar received the frame, ISO 8601 UTC. */
  readonly received_at: string;
  /** 1 on the first attempt, +1 on every redelivery. */
  readonly attempt: number;
  readonly event: MessageEvent;
  /** `follow_up` kinds usable for this session. */
  readonly capabilities: readonly string[];
  readonly origin: EnvelopeOrigin;
}

/** An interrupt delivery: cancel the session's current turn. */
export interface InterruptEnvelope {
  readonly id: string;
  readonly type: 'interrupt';
  readonly session_key: string;
  readonly received_at: string;
  readonly attempt: number;
  /** `chat_id` from `interrupt_inbound` (null for a local interrupt); `reason` when given. */
  readonly interrupt: { readonly chat_id: string | null; readonly reason: string | null };
  readonly origin: EnvelopeOrigin;
}

/** Any delivery envelope. */
export type Envelope = MessageEnvelope | InterruptEnvelope;
/** The delivery type: `message` or `interrupt`. */
export type DeliveryType = Envelope['type'];

/**
 * The ulid package's own PRNG allocates a typed array and calls into the crypto library for each
 * of a ULID's 16 random characters; this one draws the same uniform bytes from a buffer refilled
 * 4 KiB at a time (benchmarks: ULIDs were ~8 % of the main thread's allocations per event).
 */
export function pooledPrng(poolBytes = 4_096): PRNG {
  const pool = new Uint8Array(poolBytes);
  let next = poolBytes;
  return () => {
    if (next === poolBytes) {
      randomFillSync(pool);
      next = 0;
    }
    return (pool[next++] as number) / 256;
  };
}

const nextUlid = monotonicFactory(pooledPrng());

/** A new delivery id, `dlv_<ulid>` (monotonic within one process, so ids sort by creation). */
export function newDeliveryId(): string {
  return `dlv_${nextUlid()}`;
}

/** A new frame dead-letter id, `dl_<ulid>` (delivery dead letters keep their delivery id). */
export function newDeadLetterId(): string {
  return `dl_${nextUlid()}`;
}

/** Encode a message envelope for storage (`attempt` 0; see {@link stampAttempt}). */
export function encodeMessageEnvelope(
  id: string,
  sessionKey: string,
  receivedAtMs: number,
  event: MessageEvent,
  capabilities: readonly string[],
  origin: EnvelopeOrigin,
): string {
  // Key order is fixed: `attempt` comes before any caller-controlled value (see stampAttempt).
  const envelope: MessageEnvelope = {
    id,
    type: 'message',
    session_key: sessionKey,
    received_at: new Date(receivedAtMs).toISOString(),
    attempt: 0,
    event,
    capabilities,
    origin,
  };
  return JSON.stringify(envelope);
}

/** Encode an interrupt envelope for storage (`attempt` 0). */
export function encodeInterruptEnvelope(
  id: string,
  sessionKey: string,
  receivedAtMs: number,
  interrupt: { chat_id: string | null; reason: string | null },
  origin: EnvelopeOrigin,
): string {
  const envelope: InterruptEnvelope = {
    id,
    type: 'interrupt',
    session_key: sessionKey,
    received_at: new Date(receivedAtMs).toISOString(),
    attempt: 0,
    interrupt,
    origin,
  };
  return JSON.stringify(envelope);
}

const STORED_ATTEMPT = '"attempt":0,';

/**
 * Set the attempt number of a stored envelope without re-encoding it. Safe as a plain text
 * replace: inside a JSON string every `"` is escaped, so the first unescaped `"attempt":0,` is
 * always the top-level key, which precedes the event and every other caller-controlled value.
 */
export function stampAttempt(storedJson: string, attempt: number): string {
  const at = storedJson.indexOf(STORED_ATTEMPT);
  if (at < 0) {
    // not an envelope this module wrote; fall back to a full re-encode
    const envelope = JSON.parse(storedJson) as Record<string, unknown>;
    return JSON.stringify({ ...envelope, attempt });
  }
  return `${storedJson.slice(0, at)}"attempt":${attempt},${storedJson.slice(at + STORED_ATTEMPT.length)}`;
}
