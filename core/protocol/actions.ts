/**
 * Outbound actions (relay contract section 4, "Outbound actions") and their results.
 *
 * The core defines every op except `follow_up`, which the follow-up plugin defines and guards.
 * An action is validated here (or by the plugin that declared its op) before it is sent.
 */
import { z } from 'zod';
import { MAX_JSON_DEPTH } from './json-depth.js';

const metadata = z.record(z.string(), z.unknown()).default({});
const replyTo = z
  .string()
  .nullish()
  .transform((v) => v ?? null);
const chatId = z.string().min(1);

/** `send`: a new message. */
export const SendActionSchema = z.object({
  op: z.literal('send'),
  chat_id: chatId,
  content: z.string(),
  reply_to: replyTo,
  metadata,
});
/** `edit`: replace a message's content. */
export const EditActionSchema = z.object({
  op: z.literal('edit'),
  chat_id: chatId,
  message_id: z.string().min(1),
  content: z.string(),
  metadata,
});
/** `typing`: show (or clear with `content: ""`) a typing indicator. */
export const TypingActionSchema = z.object({
  op: z.literal('typing'),
  chat_id: chatId,
  content: z.string().optional(),
  metadata,
});
/** `get_chat_info`: name and type of a chat (sent without platform/botId). */
export const GetChatInfoActionSchema = z.object({ op: z.literal('get_chat_info'), chat_id: chatId });
/** `send_media`: an attachment by URL. */
export const SendMediaActionSchema = z.object({
  op: z.literal('send_media'),
  chat_id: chatId,
  media_kind: z.enum(['image', 'voice', 'audio', 'video', 'document']),
  source_url: z.string().min(1),
  content: z.string().default(''),
  reply_to: replyTo,
  metadata,
  filename: z.string().optional(),
});
/** `prompt`: a message with buttons (answers come back as `prompt_response`). */
export const PromptActionSchema = z.object({
  op: z.literal('prompt'),
  chat_id: chatId,
  content: z.string(),
  prompt_kind: z.string().min(1),
  prompt_id: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'prompt_id must be 1-32 of [A-Za-z0-9_.-]'),
  options: z
    .array(
      z.object({
        id: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'option id must be 1-32 of [A-Za-z0-9_.-]'),
        label: z.string().min(1),
        style: z.string().optional(),
      }),
    )
    .min(1),
  reply_to: replyTo,
  metadata,
  timeout_s: z.number().positive().optional(),
});
/** `react`: add or remove an emoji reaction. */
export const ReactActionSchema = z.object({
  op: z.literal('react'),
  chat_id: chatId,
  message_id: z.string().min(1),
  emoji: z.string().min(1),
  remove: z.boolean().default(false),
  metadata,
});
/** `thread_create`: open a thread (name ≤ 100). */
export const ThreadCreateActionSchema = z.object({
  op: z.literal('thread_create'),
  chat_id: chatId,
  thread_name: z.string().min(1).max(100),
  message_id: z.string().optional(),
  metadata,
});
/** `thread_rename`: rename a thread (`message_id` is the thread id). */
export const ThreadRenameActionSchema = z.object({
  op: z.literal('thread_rename'),
  chat_id: chatId,
  message_id: z.string().min(1),
  thread_name: z.string().min(1).max(100),
  only_if_current_name: z.string().optional(),
  metadata,
});

/** Every op the core defines, as one discriminated union. */
export const CoreActionSchema = z.discriminatedUnion('op', [
  SendActionSchema,
  EditActionSchema,
  TypingActionSchema,
  GetChatInfoActionSchema,
  SendMediaActionSchema,
  PromptActionSchema,
  ReactActionSchema,
  ThreadCreateActionSchema,
  ThreadRenameActionSchema,
]);
/** A validated core action. */
export type CoreAction = z.infer<typeof CoreActionSchema>;
/** The ops the core defines. */
export const CORE_OPS: readonly string[] = CoreActionSchema.options.map((o) => o.shape.op.value);

/** Any action after validation: core or plugin-defined (an object with a string `op`). */
export type Action = { op: string; metadata?: Record<string, unknown> } & Record<string, unknown>;

/** Ops that address a chat (scope re-attach applies): all except follow_up and get_chat_info. */
export function isChatAddressed(op: string): boolean {
  return op !== 'follow_up' && op !== 'get_chat_info';
}

/** `outbound_result.result`, loose: the connector may add fields. Missing ⇒ `{}`. */
export const OutboundResultSchema = z.looseObject({
  success: z.boolean().optional(),
  message_id: z.string().nullish(),
  thread_id: z.string().nullish(),
  error: z.string().nullish(),
  code: z.string().nullish(),
  ambiguous: z.boolean().optional(),
});
/** The result of an outbound action (from the connector, or synthesised by the sidecar). */
export type OutboundResult = z.infer<typeof OutboundResultSchema>;

/** The results the sidecar synthesises; callers never see an exception. */
export const SYNTHESISED = {
  /** The transport is stopping and the action was not sent. */
  closed: (): OutboundResult => ({ success: false, error: 'relay transport closed' }),
  /**
   * The transport stopped while the action's frame, already written, awaited its result: the
   * connector may have applied it, exactly as when the socket is lost.
   */
  closedPending: (): OutboundResult => ({
    success: false,
    error: 'relay transport closed',
    ambiguous: true,
  }),
  notConnected: (): OutboundResult => ({ success: false, error: 'relay transport not connected' }),
  timedOut: (): OutboundResult => ({ success: false, error: 'relay outbound timed out', ambiguous: true }),
  sendFailed: (reason: string): OutboundResult => ({ success: false, error: `relay send failed: ${reason}` }),
  connectionLost: (): OutboundResult => ({
    success: false,
    error: 'relay transport connection lost',
    ambiguous: true,
  }),
  /** The connector answered with a frame too deep to read: it acted, what it did is unknown. */
  unreadable: (): OutboundResult => ({
    success: false,
    error: `relay outbound result unreadable: nested more than ${MAX_JSON_DEPTH} levels deep`,
    ambiguous: true,
  }),
} as const;

/**
 * The `result` the decoder puts in an `outbound_result` it could not read (nested too deep): the
 * correlator knows it by identity, which no frame from the wire can have, and answers the call
 * with {@link SYNTHESISED}.unreadable.
 */
export const UNREADABLE_RESULT: OutboundResult = Object.freeze(SYNTHESISED.unreadable());

/** True when a result is a connector egress refusal. */
export function isEgressDeclined(result: OutboundResult): boolean {
  return result.code === 'egress_declined' || (result.error ?? '').includes('egress declined:');
}
