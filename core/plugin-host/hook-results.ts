/**
 * The zod schemas a hook's return value must pass (spec/plugins.md, "Isolation": a hook that
 * returns garbage fails its task with `CORE_ERR_PLUGIN_BAD_RESULT`). They run in the worker, on
 * values first reduced to plain JSON data, so nothing uncloneable ever reaches the thread boundary.
 */
import { z } from 'zod';

const capabilities = z.array(z.string().min(1).max(200)).max(64);
const plainObject = z.record(z.string(), z.unknown());

/** What a passthrough `convert` returns. Each event is validated with MessageEventSchema after. */
export const ConvertResultSchema = z.strictObject({
  events: z.array(z.strictObject({ event: plainObject, capabilities: capabilities.optional() })).max(100),
  reason: z.string().min(1).max(200).optional(),
  benign: z.boolean().optional(),
});

/** What checks a hook's verdict: a zod schema, or {@link byKey}'s choice of two. */
export interface VerdictCheck<T> {
  safeParse(value: unknown): z.ZodSafeParseResult<T>;
}

/**
 * `withKey` for an object that has its own `key`, `without` for anything else. A zod union of
 * the two explains a bad verdict meant as one by the other's complaint (zod answers with the only
 * branch whose issues do not abort: `{reject: {code}}` got "Unrecognized key: reject" instead of
 * "reject.message: required"), which sends a plugin author the wrong way.
 */
function byKey<A, B>(key: string, withKey: z.ZodType<A>, without: z.ZodType<B>): VerdictCheck<A | B> {
  return {
    safeParse: (value) =>
      (typeof value === 'object' && value !== null && Object.hasOwn(value, key)
        ? withKey
        : without
      ).safeParse(value) as z.ZodSafeParseResult<A | B>,
  };
}

/** What an `inbound` hook returns: nothing (unchanged), a replacement, or a drop verdict. */
export const InboundVerdictSchema = byKey(
  'drop',
  z.strictObject({ drop: z.string().min(1).max(200) }),
  z.union([
    z.undefined(),
    z.null(),
    z.strictObject({ event: plainObject.optional(), capabilities: capabilities.optional() }),
  ]),
);

/** A refusal of an action: lowercase API code, message for the agent, HTTP status (default 400). */
export const RejectionSchema = z.strictObject({
  code: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'code must be lowercase snake_case'),
  message: z.string().max(1_000),
  status: z.number().int().min(400).max(599).optional(),
});

const RejectionVerdictSchema = z.strictObject({ reject: RejectionSchema });

/** What an `outbound` hook returns. An amended action must keep its `op`. */
export function outboundVerdictSchema(op: string) {
  // Built once per op: constructing a zod schema per call cost most of the outbound chain's time
  // (docs/benchmarks.md, F4). Ops reaching a chain passed validation, so the set is small; the
  // bound only guards against an unbounded set of plugin-defined ops.
  let schema = verdictSchemas.get(op);
  if (!schema) {
    schema = buildVerdictSchema(op);
    if (verdictSchemas.size >= MAX_CACHED_VERDICT_SCHEMAS) verdictSchemas.clear();
    verdictSchemas.set(op, schema);
  }
  return schema;
}

function buildVerdictSchema(op: string) {
  return byKey(
    'reject',
    RejectionVerdictSchema,
    z.union([
      z.undefined(),
      z.null(),
      z.strictObject({
        action: z.looseObject({ op: z.literal(op), metadata: plainObject.optional() }).optional(),
        platform: z.string().optional(),
        botId: z.string().optional(),
      }),
    ]),
  );
}

const MAX_CACHED_VERDICT_SCHEMAS = 256;
const verdictSchemas = new Map<string, ReturnType<typeof buildVerdictSchema>>();

/**
 * Most characters of a hook's result as JSON: the largest frame the connector may send by default
 * (`relay.maxPayloadBytes`, 16 MiB). Bigger is garbage, not an event: refused while it is walked,
 * before the copy that would double it — a worker that needs one large block past its heap limit
 * aborts the whole process, not just itself (nodejs/node#47224).
 */
export const MAX_RESULT_CHARS = 16 * 1024 * 1024;

/**
 * Reduce a hook's value to plain JSON data (what the inbox stores and what crosses the thread
 * boundary). A key whose value is `undefined` counts as absent and a value with `toJSON` (a Date)
 * becomes what that returns; anything else JSON would silently drop or flatten — a function, a
 * symbol, an instance of a class such as Map — throws, as do cycles and BigInt, and the caller
 * reports a bad result naming the key, instead of handing the agent an event with a field gone.
 * So does a value of more than `maxChars` characters as JSON (counted from its strings and keys,
 * one per other value: a bound, not an exact size).
 */
export function toPlainData(value: unknown, maxChars = MAX_RESULT_CHARS): unknown {
  const json = plainJson(value, maxChars);
  return json === undefined ? undefined : JSON.parse(json);
}

/** {@link plainJson}'s refusal of a value past its bound (a TypeError, as before it had a class). */
export class JsonTooLargeError extends TypeError {
  constructor(readonly maxChars: number) {
    super(`the value is larger than ${maxChars} characters as JSON`);
  }
}

/**
 * The JSON text of `value` under {@link toPlainData}'s rules (undefined for undefined); throws a
 * TypeError naming the key for anything JSON would drop or flatten, or a {@link JsonTooLargeError}
 * past `maxChars`.
 */
export function plainJson(value: unknown, maxChars: number): string | undefined {
  if (value === undefined) return undefined;
  let size = 0;
  return JSON.stringify(value, function plainOnly(key: string, v: unknown): unknown {
    size += key.length + (typeof v === 'string' ? v.length : 0) + 4;
    if (size > maxChars) throw new JsonTooLargeError(maxChars);
    return plainValue(key, v);
  });
}

/** The replacer check of {@link toPlainData}: sees each value after its `toJSON`. */
function plainValue(key: string, value: unknown): unknown {
  const at = key === '' ? 'the value' : `"${key}"`;
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new TypeError(`${at} is a ${typeof value}`);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`${at} is a ${proto?.constructor?.name ?? 'class'} instance, not a plain object`);
    }
  }
  return value;
}

type Issue = z.core.$ZodIssue;

/**
 * A union's failure told by the branch the value came closest to (fewest issues, then the
 * deepest path: the one that got furthest into the value), with its paths below the union's;
 * zod itself says only "Invalid input" at the union. Any other issue stays as it is.
 */
function closestBranch(issue: Issue): Issue[] {
  // `errors` is zod 4's: a plugin's options schema may come from another zod (3: `unionErrors`)
  if (issue.code !== 'invalid_union' || !Array.isArray(issue.errors) || issue.errors.length === 0)
    return [issue];
  const depth = (branch: Issue[]) => Math.max(...branch.map((i) => i.path.length));
  const best = issue.errors.reduce((a, b) =>
    b.length < a.length || (b.length === a.length && depth(b) > depth(a)) ? b : a,
  );
  return best.flatMap((i) => closestBranch({ ...i, path: [...issue.path, ...i.path] } as Issue));
}

/**
 * One line summary of zod issues, for a bad-result message (paths and messages, never values):
 * at most `max` issues, each path below `prefix` when given (`events.0.event` ⇒
 * `events.0.event.source.platform`), each worded by `word` (default: zod's message).
 */
export function summariseIssues(
  error: z.ZodError,
  max = 3,
  prefix?: string,
  word: (issue: Issue) => string = (issue) => issue.message,
): string {
  return error.issues
    .flatMap(closestBranch)
    .slice(0, max)
    .map((i) => {
      const path = [...(prefix === undefined ? [] : [prefix]), ...i.path.map(String)].join('.');
      return `${path || '(root)'}: ${word(i)}`;
    })
    .join('; ');
}
