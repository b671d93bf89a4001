/**
 * Zod schemas of the payloads carried by frames (relay contract section 4): the capability
 * descriptor, the MessageEvent and the PassthroughForward. Types come from `z.infer` only.
 */
import { z } from 'zod';

/** Default `max_message_length` when the connector sends a non-integer or a value ≤ 0. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 4096;
/** Ops assumed when a descriptor advertises an empty `supported_ops`. */
export const LEGACY_OPS: readonly string[] = ['send', 'edit', 'typing', 'follow_up'];

/**
 * An optional key with a default: absent or `null` (how a Python connector writes `None`) ⇒ the
 * default. A `null` there must not fail the descriptor, which would keep the handshake pending.
 */
const orDefault = <T>(schema: z.ZodType<T>, fallback: T) =>
  schema.nullish().transform((v): T => v ?? fallback);

const required = (what: string) =>
  z.custom<unknown>((v) => v !== undefined, { message: `${what} is required` });

/** CapabilityDescriptor, normalised: unknown keys dropped, lengths and op lists cleaned. */
export const DescriptorSchema = z
  .object({
    contract_version: z.number().int(),
    platform: z.string(),
    label: z.string(),
    max_message_length: required('max_message_length').transform((v) =>
      typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : DEFAULT_MAX_MESSAGE_LENGTH,
    ),
    supports_draft_streaming: z.boolean(),
    supports_edit: z.boolean(),
    supports_threads: z.boolean(),
    markdown_dialect: z.string(),
    len_unit: required('len_unit').transform((v): 'chars' | 'utf16' => (v === 'utf16' ? 'utf16' : 'chars')),
    emoji: orDefault(z.string(), '🔌'),
    platform_hint: orDefault(z.string(), ''),
    pii_safe: orDefault(z.boolean(), false),
    supports_context: orDefault(z.boolean(), false),
    supports_inchannel_continuable: orDefault(z.boolean(), false),
    supports_block_formatting: orDefault(z.boolean(), false),
    supported_ops: z
      .unknown()
      .optional()
      .transform((v) =>
        Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [],
      ),
  })
  .transform((d) => ({
    ...d,
    /** Ops the sidecar may send: exact membership, or the legacy set when none advertised. */
    effective_ops: d.supported_ops.length === 0 ? [...LEGACY_OPS] : [...d.supported_ops],
  }));
/** A normalised capability descriptor. */
export type Descriptor = z.infer<typeof DescriptorSchema>;

/** True when `op` may be sent to a connector that advertised `descriptor`. */
export function opAllowed(descriptor: Descriptor, op: string): boolean {
  return descriptor.effective_ops.includes(op);
}

const optStr = z.string().nullish();
const optBool = z.boolean().nullish();

const ID_AS_STRING = 'send ids as strings';
const EXACT_ID = `a numeric id must be an exact integer (at most 2^53 - 1); ${ID_AS_STRING}`;
/**
 * An id of an event or its source: a string (the contract), or a number that is an exact integer
 * (off-contract, as a connector passing a platform's integer ids on sends them), taken as its
 * decimal string by {@link normaliseEvent}. Refusing it lost the whole event. A number past 2^53
 * has already been rounded by JSON.parse, so two ids could read as one (one dedupe key, one
 * session): refused, as is a fraction.
 */
const optId = z
  .union(
    [
      z.string(),
      z
        .number()
        .int({ error: EXACT_ID })
        .min(Number.MIN_SAFE_INTEGER, { error: EXACT_ID })
        .max(Number.MAX_SAFE_INTEGER, { error: EXACT_ID }),
    ],
    { error: `expected a string id (or an exact integer); ${ID_AS_STRING}` },
  )
  .nullish();

/** The ids of a source that may arrive as numbers ({@link optId}). */
const SOURCE_ID_KEYS = [
  'chat_id',
  'user_id',
  'thread_id',
  'user_id_alt',
  'chat_id_alt',
  'scope_id',
  'guild_id',
  'parent_chat_id',
  'message_id',
  'prospective_thread_id',
] as const;
/** The ids of an event (outside its source) that may arrive as numbers. */
const EVENT_ID_KEYS = ['message_id', 'reply_to_message_id'] as const;
type SourceIdKey = (typeof SOURCE_ID_KEYS)[number];
type EventIdKey = (typeof EVENT_ID_KEYS)[number];

/** `T` with the numeric form of its keys `K` gone (after {@link idsAsText}). */
type IdsAsText<T, K extends PropertyKey> = { [P in keyof T]: P extends K ? Exclude<T[P], number> : T[P] };

/** Turn the numeric ids among `keys` of `o` into their decimal strings, in place. */
function idsAsText(o: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) {
    const v = o[key];
    if (typeof v === 'number') o[key] = String(v);
  }
}

/**
 * `source` of a MessageEvent as it arrives: validated, not yet normalised. Unknown keys are
 * preserved for the agent.
 */
const SourceFieldsSchema = z.looseObject({
  platform: z.string(),
  // absent or null ⇒ the default, set by normaliseSource (no transform on the read path)
  chat_id: optId,
  chat_type: optStr,
  chat_name: optStr,
  user_id: optId,
  user_name: optStr,
  user_display_name: optStr,
  user_handle: optStr,
  thread_id: optId,
  chat_topic: optStr,
  user_id_alt: optId,
  chat_id_alt: optId,
  scope_id: optId,
  guild_id: optId,
  parent_chat_id: optId,
  message_id: optId,
  profile: optStr,
  is_bot: optBool,
  message_is_edit: optBool,
  one_to_one_verified: optBool,
  auto_thread_created: optBool,
  auto_thread_initial_name: optStr,
  prospective_thread_id: optId,
});
type SourceFields = z.infer<typeof SourceFieldsSchema>;

/** A normalised MessageEvent source: its ids are strings. */
export type Source = IdsAsText<SourceFields, SourceIdKey> & {
  chat_id: string;
  chat_type: string;
  user_name: string | null;
  scope_id: string | null;
};

/** `v` when it is a non-empty string, else undefined. */
function nonEmpty(v: string | null | undefined): string | undefined {
  return v === '' || v === null ? undefined : v;
}

/** Normalise a parsed source in place (zod's output is a fresh object, never the caller's input). */
function normaliseSource(s: SourceFields): Source {
  idsAsText(s, SOURCE_ID_KEYS);
  s.chat_id = s.chat_id ?? '';
  s.chat_type = s.chat_type ?? 'dm';
  // display name first, then user name, then handle: the first that says something. An empty
  // one is a name not set (Slack's display_name is "" until the user picks one), never a name
  s.user_name =
    nonEmpty(s.user_display_name) ??
    nonEmpty(s.user_name) ??
    nonEmpty(s.user_handle) ??
    s.user_display_name ??
    s.user_name ??
    s.user_handle ??
    null;
  // [compat] first-generation connectors send guild_id instead of scope_id
  s.scope_id = s.scope_id ?? s.guild_id ?? null;
  return s as Source;
}

/** `source` of a MessageEvent, normalised. Unknown keys are preserved for the agent. */
export const SourceSchema = SourceFieldsSchema.transform(normaliseSource);

/** One attachment descriptor; joined to `media_urls` by `url`. */
export const MediaSchema = z.looseObject({
  url: z.string(),
  kind: optStr,
  mime: optStr,
  size: z.number().nullish(),
  filename: optStr,
  caption: optStr,
});

/**
 * A platform message as it arrives: validated, not yet normalised. Used without transforms on the
 * read path: a zod transform anywhere inside an object kept each parsed event alive through a
 * young-generation GC (measured: 17 % of the bytes decoding allocates survived and were promoted,
 * ~2 MB per scavenge, filling the old generation), so {@link normaliseEvent} is plain code run on
 * the parse output.
 */
export const MessageEventFieldsSchema = z.looseObject({
  text: optStr,
  message_type: optStr,
  message_id: optId,
  reply_to_message_id: optId,
  reply_to: z.looseObject({ text: optStr, author: optStr, is_own: optBool }).nullish(),
  media_urls: z.array(z.string()).nullish(),
  media: z.array(MediaSchema).nullish(),
  context: z
    .array(z.looseObject({ text: z.string(), source: z.looseObject({ user_name: optStr, user_id: optStr }) }))
    .nullish(),
  context_error: optStr,
  prompt_response: z
    .looseObject({ prompt_id: z.string(), option_id: z.string(), label: optStr, prompt_message_id: optStr })
    .nullish(),
  source: SourceFieldsSchema,
});
/** A validated, not yet normalised MessageEvent. */
export type MessageEventFields = z.infer<typeof MessageEventFieldsSchema>;

/** A normalised MessageEvent. */
export type MessageEvent = IdsAsText<MessageEventFields, EventIdKey> & {
  text: string;
  message_type: string;
  source: Source;
};

/**
 * Normalise a parsed event in place and return it: text and type defaults, the source's names,
 * media joined to `media_urls`. Only for zod's output (a fresh object), never the caller's input.
 */
export function normaliseEvent(e: MessageEventFields): MessageEvent {
  e.text = e.text ?? '';
  e.message_type = e.message_type ?? 'text';
  idsAsText(e, EVENT_ID_KEYS);
  normaliseSource(e.source);
  if (e.media && e.media.length > 0) {
    // media entries are joined to media_urls by url, never by position
    const urls = new Set(e.media_urls ?? []);
    for (const m of e.media) urls.add(m.url);
    e.media_urls = [...urls];
  }
  return e as MessageEvent;
}

/** A normalised platform message. Unknown keys are preserved for the agent. */
export const MessageEventSchema = MessageEventFieldsSchema.transform(normaliseEvent);

/**
 * Base64 characters, then at most one padded last group; with a length that is a multiple of 4
 * this is whole groups of 4 and a padded end. No repeated group: `(?:[…]{4})*` kept a regexp
 * backtrack entry per group and threw RangeError (stack size) past ~5 MiB of base64, so every
 * forward of a body over ~3.7 MiB (the payload limit is 16 MiB) failed its schema.
 */
const STRICT_BASE64 = /^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** True when `s` is standard padded base64 (what `bodyB64` must be). */
export function isStrictBase64(s: string): boolean {
  return s.length % 4 === 0 && STRICT_BASE64.test(s);
}

const coercedString = z.preprocess((v) => (v === null || v === undefined ? '' : String(v)), z.string());

/** A sanitized webhook request the connector already ACKed at its edge. */
export const PassthroughForwardSchema = z.object({
  platform: coercedString,
  botId: coercedString,
  method: coercedString,
  path: coercedString,
  headers: z
    .unknown()
    .optional()
    .transform((v) =>
      (Array.isArray(v) ? v : [])
        .filter((h): h is [unknown, unknown] => Array.isArray(h) && h.length === 2)
        .map(([k, val]) => [String(k), String(val)] as [string, string]),
    ),
  bodyB64: coercedString.refine(isStrictBase64, { message: 'bodyB64 is not standard padded base64' }),
  // optional, but coerced like the other strings: a numeric profile must not cost the forward
  profile: z.preprocess((v) => (v === null || v === undefined ? v : String(v)), z.string().nullish()),
});
/** A normalised PassthroughForward. */
export type PassthroughForward = z.infer<typeof PassthroughForwardSchema>;
