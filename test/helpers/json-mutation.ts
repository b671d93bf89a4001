/**
 * Mutations of JSON values for property-based tests of the input edges: take a valid value (a
 * frame, a webhook body, an action) and replace, delete, add or wrap what sits at a random path,
 * with values of the wrong type or size and keys like `__proto__`. fast-check owns the generated
 * values (it shrinks and prints them), so they are copied before they are put into a value.
 */
import fc from 'fast-check';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Put into generated strings: a secret stand-in that must never come back in an error, a log
 * line or an answer (except where an edge hands a field on by design).
 */
export const MARKER = 'Qx7SECRETzz';

/** Paths to the values inside `v` down to 8 levels (the root excluded), parents before children. */
export function paths(v: Json, at: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object' || at.length >= 8) return [];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return keys.flatMap((k) => [[...at, k], ...paths((v as Record<string, Json>)[k] as Json, [...at, k])]);
}

/** Set an own property, `__proto__` included (plain assignment would replace the prototype). */
function setOwn(target: Record<string | number, Json>, key: string | number, value: Json): void {
  // a copy: the generated value belongs to fast-check, which shrinks and prints it later
  const copy = structuredClone(value);
  Object.defineProperty(target, key, { value: copy, enumerable: true, writable: true, configurable: true });
}

/** Keys that trip naive object handling, and random ones. */
export const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'type'),
  fc.string({ maxLength: 12 }),
);
/**
 * Values of the wrong type or size: any JSON, extreme numbers, long and odd strings, strings
 * holding {@link MARKER}, arrays nested up to 1 500 deep, objects named like methods.
 */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(1e308, -1e308, 2 ** 53 + 1, -0, 0.5, '', 'x'.repeat(20_000), '🔌\u0000\u2028\uffff'),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => `${s}${MARKER}`),
  fc.integer({ min: 1, max: 1_500 }).map((d): Json => JSON.parse(`${'['.repeat(d)}0${']'.repeat(d)}`)),
  fc.constantFrom<Json>({ toString: 1 }, { valueOf: 'x', toString: 'y' }, [1, 2, 3], [['k', { v: 1 }]]),
);

/** One mutation of a value at a path: replace, delete, add a key, wrap in an array. */
export type Mutation =
  | { kind: 'replace'; path: number; value: Json }
  | { kind: 'delete'; path: number }
  | { kind: 'add'; path: number; key: string; value: Json }
  | { kind: 'wrap'; path: number };

/** One random mutation. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), path: fc.nat(), value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), path: fc.nat(), key: hostileKey, value: hostileValue }),
  fc.record({ kind: fc.constant('wrap' as const), path: fc.nat() }),
);

/** Apply `ms` to a copy of `frame`; a top-level `type` is left alone (other tests own that). */
export function mutate(frame: Record<string, Json>, ms: readonly Mutation[]): Record<string, Json> {
  const out = structuredClone(frame);
  for (const m of ms) {
    const all = paths(out).filter((p) => !(p.length === 1 && p[0] === 'type'));
    if (all.length === 0) continue;
    const path = all[m.path % all.length] as (string | number)[];
    const parent = path.slice(0, -1).reduce<Json>((o, k) => (o as Record<string, Json>)[k] as Json, out) as
      | Record<string | number, Json>
      | Json[];
    const key = path.at(-1) as string | number;
    const current = (parent as Record<string | number, Json>)[key] as Json;
    if (m.kind === 'replace') setOwn(parent as Record<string, Json>, key, m.value);
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else if (m.kind === 'wrap') setOwn(parent as Record<string, Json>, key, [current]);
    else if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
      setOwn(current, m.key, m.value);
    } else setOwn(parent as Record<string, Json>, key, { [m.key]: m.value });
  }
  return out;
}

/**
 * A connector's inbound event with every optional field the contract lists (fuzzers mutate it);
 * `source` as given, e.g. a group chat with its scope.
 */
export function fullEvent(source: Record<string, Json>): Record<string, Json> {
  return {
    text: 'hi',
    message_id: 'm1',
    reply_to: { text: 'q', author: 'a', is_own: false },
    media_urls: ['https://x/1'],
    media: [{ url: 'https://x/2', kind: 'image', size: 3 }],
    context: [{ text: 'c', source: { user_name: 'n' } }],
    prompt_response: { prompt_id: 'p', option_id: 'o' },
    source,
  };
}
