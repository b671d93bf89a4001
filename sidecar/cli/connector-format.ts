/**
 * What `relay-sidecar connector` prints and reads, as pure functions: one readable line per wire
 * frame (credentials masked, long frames cut), the stdin injection syntax, and the
 * `--descriptor-file` format.
 */

import { closestName } from '../../core/config/closest-name.js';
import { INCOMING_SCHEMAS } from '../../core/protocol/frames.js';
import { DescriptorSchema } from '../../core/protocol/payloads.js';
import { defaultDescriptor } from '../dev-connector/default-descriptor.js';
import type { RecordedFrame } from '../dev-connector/options.js';
import { redactBodyB64 } from '../inbox/redact-frame.js';

/** Longest compact JSON printed per frame, characters; the rest is cut with a count. */
export const MAX_FRAME_CHARS = 300;
/** Keys whose values are credentials: printed as `[redacted]`, wherever they appear. */
const SECRET_KEY = /token|secret|authorization|password|cookie|signature|api[-_]?key/i;
/** Below this depth values are not walked (a hostile frame could nest deeply). */
const MAX_DEPTH = 32;

/** A copy of `value` with every credential-looking key masked and forward bodies scrubbed. */
export function redactForPrint(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    // Forward headers are [name, value] pairs: mask by the header name.
    if (value.length === 2 && typeof value[0] === 'string' && SECRET_KEY.test(value[0])) {
      return [value[0], '[redacted]'];
    }
    return value.map((v) => redactForPrint(v, depth + 1));
  }
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEY.test(k) && v !== null && v !== '') out[k] = '[redacted]';
    // A Discord interaction body carries its token inside the base64 JSON.
    else if (k === 'bodyB64' && typeof v === 'string') out[k] = redactBodyB64(v);
    else out[k] = redactForPrint(v, depth + 1);
  }
  return out;
}

/** `text` cut to `max` characters, saying how much was left out. */
export function truncate(text: string, max: number = MAX_FRAME_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(+${text.length - max} chars)`;
}

/**
 * One frame as a line: `12:00:01.234 ← #1 hello {"type":"hello",…}`. `←` came from the sidecar,
 * `→` was sent to it. A frame that failed its schema ends with `✗ invalid: <path: problem>`.
 */
export function formatFrameLine(rec: RecordedFrame): string {
  const time = new Date(rec.at).toISOString().slice(11, 23);
  const arrow = rec.dir === 'in' ? '←' : '→';
  const type = typeof rec.frame.type === 'string' ? rec.frame.type.slice(0, 40) : '(no type)';
  let json: string;
  try {
    json = JSON.stringify(redactForPrint(rec.frame)) ?? '';
  } catch {
    json = '(unprintable)';
  }
  const invalid = rec.invalid === undefined ? '' : ` ✗ invalid: ${truncate(rec.invalid, 120)}`;
  return `${time} ${arrow} #${rec.conn} ${type} ${truncate(json)}${invalid}`;
}

/** One stdin line, understood. */
export type InjectLine =
  | { readonly kind: 'skip' }
  | { readonly kind: 'frame'; readonly frame: Record<string, unknown>; readonly buffered: boolean }
  | { readonly kind: 'error'; readonly message: string };

const BUFFERED_PREFIX = '!buffered ';

/**
 * Parse one stdin line: blank and `#` lines are skipped; `!buffered {json}` or a `"buffered": true`
 * key ask for a buffered (replayed until acked) send; anything else must be one JSON object.
 */
export function parseInjectLine(line: string): InjectLine {
  let text = line.trim();
  if (text === '' || text.startsWith('#')) return { kind: 'skip' };
  let buffered = false;
  if (text.startsWith(BUFFERED_PREFIX)) {
    buffered = true;
    text = text.slice(BUFFERED_PREFIX.length).trim();
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'error', message: `not valid JSON (${(err as Error).message.slice(0, 120)})` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'error', message: 'not a JSON object; a frame is {"type": …, …}' };
  }
  const { buffered: flag, ...frame } = value as Record<string, unknown>;
  if (flag !== undefined && typeof flag !== 'boolean') {
    return { kind: 'error', message: '"buffered" must be true or false' };
  }
  return { kind: 'frame', frame, buffered: buffered || flag === true };
}

/**
 * Why `frame` would not pass the sidecar's schema for its type, or undefined when it would.
 * Injection still sends it: plugin authors test bad frames on purpose.
 */
export function frameProblem(frame: Record<string, unknown>): string | undefined {
  const schema = typeof frame.type === 'string' ? INCOMING_SCHEMAS.get(frame.type) : undefined;
  if (!schema)
    return `unknown type ${JSON.stringify(frame.type ?? null)?.slice(0, 40)}: the sidecar ignores it`;
  const parsed = schema.safeParse(frame);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join('.') || 'frame'}: ${issue?.message ?? 'invalid'}`;
}

/**
 * The `--descriptor-file` content, as a hello → descriptor function. Two forms: descriptor fields
 * merged over the default descriptor of every hello, or `{"platforms": {"<name>" | "*": {…}}}`
 * for per-platform fields. `platform` always follows the hello (the sidecar keys descriptors by it).
 */
export function descriptorFromFile(raw: unknown): (hello: { platform: string }) => Record<string, unknown> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error('the descriptor file must hold a JSON object');
  }
  const obj = raw as Record<string, unknown>;
  const byPlatform = obj.platforms;
  if (
    byPlatform !== undefined &&
    (!byPlatform || typeof byPlatform !== 'object' || Array.isArray(byPlatform))
  ) {
    throw new Error('"platforms" must map platform names (or "*") to descriptor fields');
  }
  const table = byPlatform as Record<string, Record<string, unknown>> | undefined;
  return (hello) => {
    const fields = table ? (table[hello.platform] ?? table['*'] ?? {}) : obj;
    return defaultDescriptor(hello.platform, { ...fields, platform: hello.platform });
  };
}

/** The fields a CapabilityDescriptor has (relay contract), for telling a typo from a field. */
const DESCRIPTOR_FIELDS: readonly string[] = Object.keys(DescriptorSchema.in.shape);

/**
 * A warning for each field of the `--descriptor-file` content (either form) that no descriptor
 * has: it is still sent as written (a test may want one), but a typo such as `suported_ops` left
 * the default op list in place without a word.
 */
export function unknownDescriptorFields(raw: Record<string, unknown>): string[] {
  const byPlatform = raw.platforms as Record<string, Record<string, unknown>> | undefined;
  const sets = byPlatform ? Object.values(byPlatform) : [raw];
  const unknown = new Set(sets.flatMap((fields) => Object.keys(fields ?? {})));
  return [...unknown]
    .filter((field) => !DESCRIPTOR_FIELDS.includes(field))
    .map((field) => {
      const meant = closestName(field, DESCRIPTOR_FIELDS);
      const quoted = JSON.stringify(field.slice(0, 100));
      return meant
        ? `${quoted} is not a descriptor field (did you mean "${meant}"?); the sidecar ignores it`
        : `${quoted} is not a descriptor field; the sidecar ignores it`;
    });
}

/** Why the descriptor for `platform` fails the contract schema (the sidecar would skip it). */
export function descriptorProblem(descriptor: Record<string, unknown>): string | undefined {
  const parsed = DescriptorSchema.safeParse(descriptor);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join('.') || 'descriptor'}: ${issue?.message ?? 'invalid'}`;
}
