/**
 * What a bad `options` entry of plugins.json says, checked on the built-ins' own option schemas:
 * the option, what it takes (its unit for `…Ms`) and the option meant for a misspelt one, in the
 * words config keys use; never zod's own wording, never the value.
 */
import test from 'ava';
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
