/**
 * One zod schema per frame type (relay contract section 3), combined into two discriminated
 * unions: frames the connector sends us, and frames we send the connector.
 */
import { z } from 'zod';
import {
  DescriptorSchema,
  MessageEventFieldsSchema,
  MessageEventSchema,
  normaliseEvent,
  PassthroughForwardSchema,
} from './payloads.js';

/** 32 lowercase hex: a uuid4 without dashes. */
export const REQUEST_ID = /^[0-9a-f]{32}$/;

// ---- connector → sidecar ----

/**
 * `bufferId` of a buffered delivery: absent or null ⇒ live. An empty string or a number is refused
 * (the frame is a schema failure, `CORE_ERR_FRAME_SCHEMA`, and no poison frame: there is no id to
 * ack or dead-letter it under): `""` keys nothing, and as a dedupe key it would make every such
 * frame a duplicate of the first.
 */
const BUFFER_ID_WANTED = 'bufferId must be a non-empty string (the id the connector acks and dedupes by)';
const BufferIdField = z.string({ error: BUFFER_ID_WANTED }).min(1, { error: BUFFER_ID_WANTED }).nullish();

/** `descriptor`: one per hello; the first of a connection completes the handshake. */
export const DescriptorFrameSchema = z.object({
  type: z.literal('descriptor'),
  descriptor: DescriptorSchema,
});
/** `inbound`: a normalised platform message; `bufferId` ⇒ buffered (replayed) delivery. */
export const InboundFrameSchema = z.object({
  type: z.literal('inbound'),
  event: MessageEventSchema,
  bufferId: BufferIdField,
});
/**
 * `inbound` as the read path parses it: the event validated without transforms (see
 * `MessageEventFieldsSchema` for why), then completed by {@link finishInbound}. Same frames
 * accepted, same result as {@link InboundFrameSchema}.
 */
export const InboundReadSchema = InboundFrameSchema.extend({ event: MessageEventFieldsSchema });

/** Complete a frame parsed with {@link InboundReadSchema} (normalises its event in place). */
export function finishInbound(frame: z.infer<typeof InboundReadSchema>): z.infer<typeof InboundFrameSchema> {
  normaliseEvent(frame.event);
  return frame as z.infer<typeof InboundFrameSchema>;
}
/**
 * `outbound_result`: the answer to an `outbound`; missing result ⇒ `{}`. Any other `result` is
 * taken as it is and judged by the correlator: a frame refused here for its result left the call
 * waiting out the whole outbound timeout, though the connector had answered.
 */
export const OutboundResultFrameSchema = z.object({
  type: z.literal('outbound_result'),
  requestId: z.string(),
  result: z
    .unknown()
    .optional()
    .transform((r): unknown => r ?? {}),
});
/**
 * `interrupt_inbound`: a /stop for exactly one session. The contract gives it no `bufferId`; a
 * connector that buffers one anyway gets it acked once committed, and deduped by it like any
 * buffered frame (else its every reconnect would deliver the same /stop again).
 */
export const InterruptInboundFrameSchema = z.object({
  type: z.literal('interrupt_inbound'),
  bufferId: BufferIdField,
  session_key: z.string().min(1),
  chat_id: z
    .string()
    .nullish()
    .transform((v) => v ?? ''),
});
/** `passthrough_forward`: a sanitized webhook request (Discord interaction, Twilio). */
export const PassthroughForwardFrameSchema = z.object({
  type: z.literal('passthrough_forward'),
  forward: PassthroughForwardSchema,
  bufferId: BufferIdField,
});
/** `going_idle_ack`: the connector flipped this instance to buffered-only. */
export const GoingIdleAckFrameSchema = z.object({ type: z.literal('going_idle_ack') });

/** Every frame the connector may send. */
export const IncomingFrameSchema = z.discriminatedUnion('type', [
  DescriptorFrameSchema,
  InboundFrameSchema,
  OutboundResultFrameSchema,
  InterruptInboundFrameSchema,
  PassthroughForwardFrameSchema,
  GoingIdleAckFrameSchema,
]);
/** A decoded connector frame. */
export type IncomingFrame = z.infer<typeof IncomingFrameSchema>;
/** The type names of connector frames. */
export type IncomingType = IncomingFrame['type'];
/** Narrow an incoming frame by type. */
export type IncomingOf<T extends IncomingType> = Extract<IncomingFrame, { type: T }>;
/** The schema of each connector frame type, by name. */
export const INCOMING_SCHEMAS = new Map<string, z.ZodType>(
  IncomingFrameSchema.options.map((s) => [s.shape.type.value, s] as const),
);

// ---- sidecar → connector ----

/** One Discord application-command manifest entry (only sent with the discord hello). */
export const CommandManifestEntrySchema = z.looseObject({
  name: z.string().min(1),
  description: z.string(),
  options: z.array(z.record(z.string(), z.unknown())).optional(),
});

/** `hello`: one per fronted identity, in configured order. */
export const HelloFrameSchema = z.object({
  type: z.literal('hello'),
  platform: z.string(),
  botId: z.string(),
  command_manifest: z.array(CommandManifestEntrySchema).optional(),
});
/** `outbound`: an action for the connector to perform. */
export const OutboundFrameSchema = z.object({
  type: z.literal('outbound'),
  requestId: z.string().regex(REQUEST_ID),
  action: z.looseObject({ op: z.string().min(1) }),
  platform: z.string().optional(),
  botId: z.string().optional(),
});
/** `interrupt`: a fire-and-forget mid-turn /stop. `reason` key always present. */
export const InterruptFrameSchema = z.object({
  type: z.literal('interrupt'),
  session_key: z.string().min(1),
  reason: z.string().nullable(),
});
/** `inbound_ack`: durable receipt of a buffered delivery. */
export const InboundAckFrameSchema = z.object({
  type: z.literal('inbound_ack'),
  bufferId: z.string().min(1),
});
/** `going_idle`: ask the connector to buffer inbound for this instance. */
export const GoingIdleFrameSchema = z.object({ type: z.literal('going_idle') });

/** Every frame the sidecar may send. */
export const OutgoingFrameSchema = z.discriminatedUnion('type', [
  HelloFrameSchema,
  OutboundFrameSchema,
  InterruptFrameSchema,
  InboundAckFrameSchema,
  GoingIdleFrameSchema,
]);
/** A frame the sidecar sends. */
export type OutgoingFrame = z.infer<typeof OutgoingFrameSchema>;
/** Types the sidecar sends; seeing one come back is an echo (ignored). */
export const OUTGOING_TYPES: ReadonlySet<string> = new Set(
  OutgoingFrameSchema.options.map((s) => s.shape.type.value),
);
