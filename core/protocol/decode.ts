/**
 * Decode one NDJSON line from the connector into a typed frame. Parse once, at the edge, with the
 * one schema of the frame's type; the result is a value and decoding never throws, whatever the
 * line holds (relay contract section 2: nothing on the socket may end the read loop).
 */
import type { z } from 'zod';
import { type ErrorCode, errorMessage } from '../errors.js';
import { UNREADABLE_RESULT } from './actions.js';
import {
  finishInbound,
  INCOMING_SCHEMAS,
  InboundReadSchema,
  type IncomingFrame,
  OUTGOING_TYPES,
} from './frames.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth.js';

/** Longest text of a line that may reach a log field (reasons, type names). */
export const MAX_REASON_CHARS = 200;
const MAX_TYPE_CHARS = 64;
const MAX_BUFFER_ID_CHARS = 256;

/** Why a well-formed object was ignored rather than reported as malformed. */
export type IgnoredReason = 'missing_type' | 'unknown_type' | 'echoed_type';

/** A line that did not become a frame. */
export interface DecodeFailure {
  readonly ok: false;
  /** Stable code: NOT_JSON / NOT_OBJECT / SCHEMA (malformed) or UNKNOWN_TYPE (ignored). */
  readonly code: Extract<
    ErrorCode,
    | 'CORE_ERR_FRAME_NOT_JSON'
    | 'CORE_ERR_FRAME_NOT_OBJECT'
    | 'CORE_ERR_FRAME_SCHEMA'
    | 'CORE_ERR_FRAME_UNKNOWN_TYPE'
  >;
  /** Safe to log: at most {@link MAX_REASON_CHARS} characters, never the raw line. */
  readonly reason: string;
  /** Set for `CORE_ERR_FRAME_UNKNOWN_TYPE`: the metric label of the ignored frame. */
  readonly ignored?: IgnoredReason;
  /** The frame's `type` when it had a string one (truncated). */
  readonly type?: string;
  /** A schema-failed frame's string `bufferId`, so the caller can ack and dead-letter it. */
  readonly bufferId?: string;
}

/** The outcome of {@link decodeFrame}. */
export type DecodeResult = { readonly ok: true; readonly frame: IncomingFrame } | DecodeFailure;

/** Decode one line. Never throws. */
export function decodeFrame(line: string): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { ok: false, code: 'CORE_ERR_FRAME_NOT_JSON', reason: clip(parseErrorReason(err)) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    return { ok: false, code: 'CORE_ERR_FRAME_NOT_OBJECT', reason: `expected an object, got ${kind}` };
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.type !== 'string') {
    return ignored('missing_type', 'frame has no string type');
  }
  const type = obj.type.slice(0, MAX_TYPE_CHARS);
  if (OUTGOING_TYPES.has(obj.type)) {
    return ignored('echoed_type', 'frame echoes a sidecar-to-connector type', type);
  }
  // the hottest frame is parsed without zod transforms and completed in plain code
  const inbound = obj.type === 'inbound';
  const schema = inbound ? InboundReadSchema : INCOMING_SCHEMAS.get(obj.type);
  if (!schema) return ignored('unknown_type', 'frame type is not part of the contract', type);
  // A deeper frame parses (JSON.parse does not recurse), but its structured clone into the plugin
  // worker overflows the stack and fails the whole batch it travels in, good neighbours included.
  if (exceedsJsonDepth(line)) {
    // the answer to a call: refused, it left the call waiting out the outbound timeout though the
    // connector had acted; its top-level requestId is read safely (JSON.parse does not recurse)
    if (obj.type === 'outbound_result' && typeof obj.requestId === 'string') {
      const frame = { type: 'outbound_result', requestId: obj.requestId, result: UNREADABLE_RESULT } as const;
      return { ok: true, frame };
    }
    return schemaFailure(obj, type, `frame nested more than ${MAX_JSON_DEPTH} levels deep`);
  }
  const parsed = safeParse(schema, obj);
  if (parsed.success) {
    const frame = inbound ? finishInbound(parsed.data as Parameters<typeof finishInbound>[0]) : parsed.data;
    return { ok: true, frame: frame as IncomingFrame };
  }
  return schemaFailure(obj, type, parsed.reason);
}

/** A frame of a known type that cannot be taken; its bufferId lets the caller ack and dead-letter it. */
function schemaFailure(obj: Record<string, unknown>, type: string, reason: string): DecodeFailure {
  const bufferId = bufferIdOf(obj);
  return {
    ok: false,
    code: 'CORE_ERR_FRAME_SCHEMA',
    reason: clip(reason),
    type,
    ...(bufferId === undefined ? {} : { bufferId }),
  };
}

/** Run a schema; a throwing transform counts as a schema failure, never an exception. */
function safeParse(
  schema: z.ZodType,
  obj: unknown,
):
  | { success: true; data: unknown }
  | {
      success: false;
      reason: string;
    } {
  try {
    const r = schema.safeParse(obj);
    return r.success ? { success: true, data: r.data } : { success: false, reason: issues(r.error) };
  } catch (err) {
    return { success: false, reason: `schema threw: ${(err as Error)?.message ?? String(err)}` };
  }
}

/** `path: message` of each issue; zod messages name expectations, not received content. */
function issues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(frame)'}: ${i.message}`)
    .join('; ');
}

function ignored(reason: IgnoredReason, text: string, type?: string): DecodeFailure {
  return {
    ok: false,
    code: 'CORE_ERR_FRAME_UNKNOWN_TYPE',
    reason: text,
    ignored: reason,
    ...(type === undefined ? {} : { type }),
  };
}

function bufferIdOf(obj: Record<string, unknown>): string | undefined {
  const id = obj.bufferId;
  return typeof id === 'string' && id !== '' && id.length <= MAX_BUFFER_ID_CHARS ? id : undefined;
}

/**
 * V8 quotes a snippet of the input in JSON.parse errors (`Unexpected token 'o', "not json" is
 * not valid JSON`). The snippet may be a user's message text, so it is cut out; the position stays.
 * Also used for the agent API's `invalid_json` message.
 */
export function parseErrorReason(err: unknown): string {
  return withoutJsonSnippet(errorMessage(err));
}

/** The end of V8's JSON.parse messages that quote the input. */
const NOT_JSON = 'is not valid JSON';

/**
 * `text` with the snippet of V8's JSON.parse messages in it cut out (see parseErrorReason): from
 * the first `"` (with a `, ` and `...` before it) to the last `"… is not valid JSON`. Found in one
 * pass: the regex it replaces (`,?\s*(?:\.\.\.)?".*"…`) tried every quote against the rest of
 * the text, and a plugin's 16 KiB log field of quotes held the main thread for seconds.
 */
export function withoutJsonSnippet(text: string): string {
  let end = text.lastIndexOf(NOT_JSON);
  let closing = -1;
  while (end >= 0 && closing < 0) {
    let at = end;
    while (at > 0 && /\s/.test(text[at - 1] ?? '')) at--;
    if (at >= 3 && text.startsWith('...', at - 3)) at -= 3;
    if (text[at - 1] === '"') closing = at - 1;
    else end = end === 0 ? -1 : text.lastIndexOf(NOT_JSON, end - 1);
  }
  const open = text.indexOf('"');
  if (closing < 0 || open < 0 || open >= closing) return text;
  let start = open;
  if (start >= 3 && text.startsWith('...', start - 3)) start -= 3;
  while (start > 0 && /\s/.test(text[start - 1] ?? '')) start--;
  if (text[start - 1] === ',') start--;
  return `${text.slice(0, start)} (not valid JSON)${text.slice(end + NOT_JSON.length)}`;
}

function clip(text: string): string {
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 1)}…`;
}
