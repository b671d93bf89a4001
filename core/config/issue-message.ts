/**
 * What an operator reads for one schema problem: zod's own words ("Invalid input: expected
 * number, received string", "Unrecognized key") say what the parser saw, not what to write
 * instead. Never the value itself: it may be a secret.
 */
import type { z } from 'zod';
import { closestName } from './closest-name.js';

/** The unit a number key's name ends with (units.ts, docs/config.md), and how to write one. */
function unitOf(key: string): { unit: string; example: string } | undefined {
  if (key.endsWith('Ms')) return { unit: 'ms', example: '30000, not "30s"' };
  if (key.endsWith('Bytes')) return { unit: 'bytes', example: '1048576, not "1MB"' };
  if (key.endsWith('Mb')) return { unit: 'MiB', example: '128, not "128MB"' };
  if (key.endsWith('S')) return { unit: 's', example: '300, not "5m"' };
  return undefined;
}

/** The message for `issue`, given the schema and the input it was checked against. */
export function issueMessage(issue: z.core.$ZodIssue, schema: z.ZodType, input: unknown): string {
  const key = String(issue.path[issue.path.length - 1] ?? '');
  // a key with a message of its own (log.pretty's accepted words) keeps it
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
    const given = valueAt(input, issue.path);
    if (issue.expected === 'number' && typeof given === 'string') {
      const unit = unitOf(key);
      if (/^\s*-?\d+(\.\d+)?\s*$/.test(given))
        return `must be a number${unit ? ` of ${unit.unit}` : ''}, not a string: write it without quotes`;
      return unit
        ? `must be a plain number of ${unit.unit}, without a unit or quotes (e.g. ${unit.example})`
        : 'must be a plain number, without quotes';
    }
    if (issue.expected === 'boolean' && typeof given === 'string')
      return 'must be true or false, without quotes';
    // zod's 'expected int, received number' for 1.5
    if (issue.expected === 'int' && typeof given === 'number') return 'must be a whole number';
  }
  // zod's own words ('Too small: expected number to be >0') say what it checked, not what to
  // write; a message the schema gave (a bound with its reason) is kept as it is
  if (ZOD_WORDS.test(issue.message)) {
    const plain = plainMessage(issue, key, valueAt(input, issue.path), schema);
    if (plain) return plain;
  }
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(schema, issue.path);
    const near = issue.keys.map((k) => closestName(k, known ?? []));
    const quoted = issue.keys.map((k) => `"${k}"`).join(', ');
    if (near.every((n) => n !== undefined))
      return `unknown key ${quoted}: did you mean ${near.map((n) => `"${n}"`).join(', ')}?`;
    // keys not known here (a union's forms): "takes no keys" would send the reader the wrong way
    if (known === undefined) return `unknown key ${quoted}`;
    const where = issue.path.length > 0 ? 'this section' : 'the top level';
    return `unknown key ${quoted} (${where} takes ${known.length > 0 ? known.join(', ') : 'no keys'})`;
  }
  return issue.message;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const p of path) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[p];
  }
  return node;
}

/** The parts of a zod 4 schema's `def` walked here. */
type Def = { innerType?: unknown; in?: unknown; element?: unknown; type?: string; valueType?: unknown };

const defOf = (node: unknown): Def | undefined => (node as { _zod?: { def?: Def } } | null)?._zod?.def;

/** Most wrappers walked through at one key: a plugin's schema is its author's, and may loop. */
const MAX_LAYERS = 32;

/** `node` and the schemas it wraps (defaults, optionals, pipes' inputs), outermost first. */
function layers(node: unknown): unknown[] {
  const out: unknown[] = [];
  for (let at = node; at && out.length < MAX_LAYERS; at = defOf(at)?.innerType ?? defOf(at)?.in) out.push(at);
  return out;
}

/**
 * The schema at `path` as declared there, its default or optional kept; through lists (an index
 * in the path is a list's entry: `relay.policies.0`) and records (a key is a record's entry).
 */
function nodeAt(schema: z.ZodType, path: readonly PropertyKey[]): unknown {
  let node: unknown = schema;
  for (const p of path) {
    const inner = layers(node).at(-1);
    const def = defOf(inner);
    if (typeof p === 'number') node = def?.element;
    else if (def?.type === 'record') node = def.valueType;
    else node = (inner as { shape?: Record<PropertyKey, unknown> } | undefined)?.shape?.[p];
    if (!node) return undefined;
  }
  return node;
}

/**
 * The keys of the object schema at `path`; undefined where no object schema is found there (a
 * union of several, a plugin's own kinds).
 */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  const shape = (layers(nodeAt(schema, path)).at(-1) as { shape?: unknown } | undefined)?.shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : undefined;
}

/**
 * What to do instead of an empty value at `path`: leave the key out only where it may be (for
 * its default, or unset); a required key takes a value, a list's entry is removed.
 */
function instead(schema: z.ZodType, path: readonly PropertyKey[]): string {
  if (typeof path.at(-1) === 'number') return ', or remove the entry';
  const kinds = layers(nodeAt(schema, path)).map((node) => defOf(node)?.type);
  if (kinds.includes('default') || kinds.includes('prefault'))
    return ', or leave the key out for its default';
  return kinds.includes('optional') ? ', or leave the key out' : '';
}

/** The start of zod's default messages. */
const ZOD_WORDS = /^(Too small|Too big|Invalid option|Invalid input)/;

/** `a, b or c`. */
const anyOf = (words: readonly string[]) =>
  words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : (words[0] ?? '');

/** What a key of zod's `expected` kind takes, in an operator's words. */
const KIND_WORDS: Readonly<Record<string, string>> = {
  object: 'an object of keys',
  record: 'an object of keys',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

/** The kind of a given value, in the same words; never the value itself. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'boolean') return 'true or false';
  return typeof value === 'number' ? 'a number' : `a ${typeof value}`;
}

/** A bound's words: `at least 1`, `greater than 0 ms`. */
function bound(word: 'least' | 'most', limit: number | bigint, inclusive: boolean, key: string): string {
  const unit = unitOf(key);
  const than = word === 'least' ? 'greater than' : 'less than';
  return `${inclusive ? `at ${word}` : than} ${limit}${unit ? ` ${unit.unit}` : ''}`;
}

/** An operator's message for an issue zod worded itself, or undefined to keep zod's. */
function plainMessage(
  issue: z.core.$ZodIssue,
  key: string,
  given: unknown,
  schema: z.ZodType,
): string | undefined {
  switch (issue.code) {
    case 'too_small': {
      if (issue.origin === 'string' && Number(issue.minimum) === 1)
        return `must not be empty: give a value${instead(schema, issue.path)}`;
      if (issue.origin === 'array') {
        const n = Number(issue.minimum);
        return `must list at least ${n} ${n === 1 ? 'entry' : 'entries'}`;
      }
      const what = issue.origin === 'string' ? ' characters' : '';
      return `must be ${bound('least', issue.minimum, issue.inclusive !== false, key)}${what}`;
    }
    case 'too_big': {
      if (issue.origin === 'array') return `must list at most ${issue.maximum} entries`;
      const what = issue.origin === 'string' ? ' characters' : '';
      return `must be ${bound('most', issue.maximum, issue.inclusive !== false, key)}${what}`;
    }
    case 'invalid_value': {
      const words = issue.values.map((v) => String(v));
      // the case hint says what is wrong without quoting the value (it may be a secret)
      const caseOnly =
        typeof given === 'string' && !words.includes(given) && words.includes(given.toLowerCase());
      return `must be ${anyOf(words)}${caseOnly ? ' (in lower case)' : ''}`;
    }
    case 'invalid_type': {
      const want = KIND_WORDS[issue.expected] ?? issue.expected;
      if (given === undefined) return `is required: ${want}`;
      const leave = given === null ? ': leave the key out for its default' : '';
      return `must be ${want}, not ${kindOf(given)}${leave}`;
    }
    default:
      return undefined;
  }
}
