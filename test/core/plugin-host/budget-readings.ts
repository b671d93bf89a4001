/**
 * The readings of a forward's body by its credential search (task-secrets.ts): the walk within
 * the budget of keys (JSON.parse, the form's fields, a broken body's quoted pairs) and the
 * patterns past it (credential-pairs.ts). Each says whether the token under one key is found,
 * so a test can hold the readings to each other; failures name the key and the reading, never the
 * token.
 */
import type { ExecutionContext } from 'ava';
import type { PassthroughForward } from '../../../core/index.js';
import { taskSecrets } from '../../../core/plugin-host/task-secrets.js';

/** The start of the value put under each key: long enough to be searched for. */
export const TOKEN = 'aW50ZXJhY3Rpb246OTg3NjU0MzIx';

/** A forward's convert task with `body`. */
export function convert(body: string, extra: Partial<PassthroughForward> = {}) {
  const forward: PassthroughForward = {
    platform: 'p',
    botId: '',
    method: 'POST',
    path: '/hook',
    headers: [],
    bodyB64: Buffer.from(body).toString('base64'),
    profile: null,
    ...extra,
  };
  return { k: 'convert' as const, chain: [0], forward };
}

/**
 * Harmless keys enough to spend the budget of keys (4 096) before the key read; string values, as
 * a broken body's quoted pairs are only those with one.
 */
const FILLER = Object.fromEntries(Array.from({ length: 4_200 }, (_, i) => [`f${i}`, `filler-${i}-value`]));
/** {@link FILLER} as an open JSON object, and as form fields each followed by `&`. */
const JSON_FILLER = JSON.stringify(FILLER).slice(0, -1);
const FORM_FILLER = `${new URLSearchParams(FILLER)}&`;

/** The value put under the `i`th key read: each key its own, so one body reads them all. */
const tokenAt = (i: number): string => `${TOKEN}-${i}`;

/** Which of the values of `count` keys the search of `body` finds. */
function found(body: string, count: number): boolean[] {
  const secrets = new Set(taskSecrets(convert(body)));
  return Array.from({ length: count }, (_, i) => secrets.has(tokenAt(i)));
}

/** Where a JSON key was read: whole or cut-off body, within or past the budget of keys. */
export type JsonReading = 'within' | 'past' | 'broken within' | 'broken past';

/**
 * Whether the value under each JSON key of `keys` (as written in the body, quotes included) is
 * found, by reading. Each key has an object of its own (`"to\u006ben"` and `"token"` are one key
 * to JSON.parse), and a harmless pair after it keeps its reading its own.
 */
export function jsonReadings(keys: readonly string[]): Record<JsonReading, boolean[]> {
  const pairs = keys.map((key, i) => `"n${i}":{${key}:"${tokenAt(i)}","sep":"harmless-value"}`).join(',');
  return {
    within: found(`{"data":{${pairs}},"id":"1"}`, keys.length),
    past: found(`${JSON_FILLER},"data":{${pairs}},"id":"1"}`, keys.length),
    // a body the connector cut off: read by its quoted pairs
    'broken within': found(`{"type":2,${pairs},"data":{`, keys.length),
    'broken past': found(`${JSON_FILLER},${pairs},"data":{`, keys.length),
  };
}

/** Whether the value under each form field name of `names` (as written) is found, within or past the budget. */
export function formReadings(names: readonly string[]): Record<'within' | 'past', boolean[]> {
  const fields = names.map((name, i) => `${name}=${tokenAt(i)}&sep${i}=harmless-value`).join('&');
  return {
    within: found(`From=%2B1555&${fields}`, names.length),
    past: found(`${FORM_FILLER}${fields}`, names.length),
  };
}

/**
 * Each JSON key (as written in the body, quotes included) and form field name of `keys` gives the
 * value under it (`expected`, or not) by every reading: within the budget of keys and past it, in
 * whole and cut-off bodies alike. A failure names the key and the reading.
 */
export function readAlike(
  t: ExecutionContext,
  keys: readonly (readonly [string, string])[],
  expected = true,
): void {
  const json = keys.map(([key]) => key);
  const form = keys.map(([, name]) => name);
  for (const [names, readings] of [
    [json, jsonReadings(json)],
    [form, formReadings(form)],
  ] as const)
    for (const [reading, found] of Object.entries(readings))
      names.forEach((name, i) => {
        if (found[i] !== expected) t.fail(`${name} ${reading}: ${found[i] ? 'found' : 'not found'}`);
      });
  t.pass();
}
