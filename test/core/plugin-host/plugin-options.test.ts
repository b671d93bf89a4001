/**
 * What a bad `options` entry of plugins.json says, checked on the built-ins' own option schemas:
 * the option, what it takes (its unit for `…Ms`) and the option meant for a misspelt one, in the
 * words config keys use; never zod's own wording, never the value.
 */
import test from 'ava';
import { z } from 'zod';
import type { PluginDefinition } from '../../../core/plugin-host/define-plugin.js';
import { parsePluginOptions } from '../../../core/plugin-host/plugin-options.js';
import followUp from '../../../plugins/follow-up/index.js';
import scopeReattacher from '../../../plugins/scope-reattacher/index.js';
import twilio from '../../../plugins/twilio/index.js';

/** Any built-in, as the host holds it. */
type Definition = PluginDefinition<unknown>;

const problemOf = (definition: Definition, raw: unknown): string => {
  const parsed = parsePluginOptions(definition, raw);
  if (parsed.ok) throw new Error('the options were accepted');
  return parsed.problem;
};

const cases: [string, Definition, unknown, RegExp][] = [
  [
    'a ttl with a unit',
    scopeReattacher as unknown as Definition,
    { ttlMs: '7d' },
    /^ttlMs: must be a plain number of ms, without a unit or quotes/,
  ],
  ['a zero ttl', followUp as unknown as Definition, { ttlMs: 0 }, /^ttlMs: must be greater than 0 ms$/],
  [
    'a fractional ttl',
    scopeReattacher as unknown as Definition,
    { ttlMs: 1.5 },
    /^ttlMs: must be a whole number$/,
  ],
  [
    'a quoted boolean',
    scopeReattacher as unknown as Definition,
    { mirrorGuildId: 'yes' },
    /^mirrorGuildId: must be true or false, without quotes$/,
  ],
  [
    'a misspelt option',
    scopeReattacher as unknown as Definition,
    { mirrorGuildID: true },
    /^\(root\): unknown key "mirrorGuildID": did you mean "mirrorGuildId"\?$/,
  ],
  [
    'an option of a plugin that takes none',
    twilio as unknown as Definition,
    { verify: true },
    /^\(root\): unknown key "verify" \(the top level takes no keys\)$/,
  ],
  [
    'a list',
    scopeReattacher as unknown as Definition,
    [],
    /^\(root\): must be an object of keys, not a list$/,
  ],
];
for (const [label, definition, raw, says] of cases) {
  test(`${definition.name} options: ${label} says what the option takes`, (t) => {
    // was: 'ttlMs: Invalid input: expected number, received string', 'Too small: …', …
    const problem = problemOf(definition, raw);
    t.regex(problem, says);
    t.notRegex(problem, /Invalid input|Unrecognized key|Too (small|big)|7d/);
  });
}

/** A third-party plugin's options: a union of two forms, and a record of strict entries. */
const routed = {
  name: 'routed',
  options: z.strictObject({
    target: z.union([
      z.strictObject({ url: z.string() }),
      z.strictObject({ path: z.string(), mode: z.number() }),
    ]),
    byChat: z.record(z.string(), z.strictObject({ ttlMs: z.number() })).default({}),
  }),
} as unknown as Definition;

test('an option of a union says what its closest form takes, at its own path', (t) => {
  // was: 'target: Invalid input' (zod's word at the union; before the rewording, the closest
  // form's issue was given: 'target.url: … expected string')
  t.is(problemOf(routed, { target: { url: 5 } }), 'target.url: must be a string, not a number');
});

test('an unknown key where the keys taken are not known to the message is not said to take none', (t) => {
  // was: '… (this section takes no keys)', of a record's entry and of a union's form
  t.is(
    problemOf(routed, { target: { url: 'x' }, byChat: { a: { ttlMs: 1, ttl: 2 } } }),
    'byChat.a: unknown key "ttl" (this section takes ttlMs)',
  );
  const inUnion = problemOf(routed, { target: { path: 'x', mode: 1, modee: 2 } });
  t.regex(inUnion, /^target: unknown key "modee"/);
  t.notRegex(inUnion, /takes no keys/);
});

test('an unknown option of a schema whose wrappers loop is still told, not walked for ever', (t) => {
  // a plugin's schema is its author's: one whose def wraps itself hung the walk for the keys
  const options = z.strictObject({ suffix: z.string() });
  const def = (options as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  def.innerType = options;
  const looping = { name: 'looping', options } as unknown as Definition;
  t.regex(problemOf(looping, { suffix: '!', sufix: '?' }), /^\(root\): unknown key "sufix"/);
});
