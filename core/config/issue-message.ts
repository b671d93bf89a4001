/**
 * What an operator reads for one schema problem: zod's own words ("Invalid input: expected
 * number, received string", "Unrecognized key") say what the parser saw, not what to write
 * instead. Never the value itself: it may be a secret.
 */
import type { z } from 'zod';
import { closestName } from './unknown-env.js';

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
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(schema, issue.path);
    const near = issue.keys.map((k) => closestName(k, known));
    const quoted = issue.keys.map((k) => `"${k}"`).join(', ');
    if (near.every((n) => n !== undefined))
      return `unknown key ${quoted}: did you mean ${near.map((n) => `"${n}"`).join(', ')}?`;
    return `unknown key ${quoted} (${issue.path.length > 0 ? 'this section' : 'the top level'} takes ${known.join(', ')})`;
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

/**
 * The keys of the object schema at `path`, through defaults, optionals, pipes and lists (an index
 * in the path is a list's entry: `relay.policies.0`).
 */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  const unwrap = () => {
    for (;;) {
      const def = (node as { _zod?: { def?: { innerType?: unknown; in?: unknown } } })._zod?.def;
      const inner = def?.innerType ?? def?.in;
      if (!inner) return;
      node = inner;
    }
  };
  for (const p of path) {
    unwrap();
    const element = (node as { _zod?: { def?: { element?: unknown } } })._zod?.def?.element;
    node = typeof p === 'number' ? element : (node as { shape?: Record<PropertyKey, unknown> }).shape?.[p];
    if (!node) return [];
  }
  unwrap();
  return Object.keys((node as { shape?: Record<string, unknown> }).shape ?? {});
}
