import test from 'ava';
import fc from 'fast-check';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../../core/protocol/json-depth.js';

const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

test('depth counts the outermost level: MAX_JSON_DEPTH levels pass, one more does not', (t) => {
  t.is(MAX_JSON_DEPTH, 64);
  t.false(exceedsJsonDepth(nested(MAX_JSON_DEPTH)));
  t.true(exceedsJsonDepth(nested(MAX_JSON_DEPTH + 1)));
  t.false(exceedsJsonDepth('{"a":{}}', 2));
  t.true(exceedsJsonDepth('{"a":{}}', 1));
  t.true(exceedsJsonDepth('[[[]]]', 2));
});

test('siblings do not add up: depth is the deepest path, not the bracket count', (t) => {
  const wide = JSON.stringify({ list: Array.from({ length: 1_000 }, () => ({ x: [1, { y: [] }] })) });
  // {list: [{x: [1, {y: []}]}]}: six levels on its deepest path, a few thousand brackets in all
  t.false(exceedsJsonDepth(wide, 6));
  t.true(exceedsJsonDepth(wide, 5));
});

test('brackets inside strings, escaped quotes included, do not count', (t) => {
  const text = JSON.stringify({ content: '[[[[{{{{ \\" "[[[[', more: '\\"{{{{' });
  t.false(exceedsJsonDepth(text, 1));
  t.true(exceedsJsonDepth(`{"s":"\\\\",${'['.repeat(3)}`, 3));
});

test('a million levels are checked without overflowing the stack', (t) => {
  const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
  t.true(exceedsJsonDepth(deep));
  t.true(exceedsJsonDepth(deep, 999_999));
  t.false(exceedsJsonDepth(deep, 1_000_000));
});

/** Depth of a parsed value, the outermost object or array counted (the reference). */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

test('any JSON: the scan agrees with the depth of the parsed value (strings full of quotes, backslashes and brackets)', (t) => {
  const tricky = fc.string({ unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', 'a', ' ', 'é') });
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      tricky,
      fc.integer(),
      fc.constant(null),
      fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(tricky, tie('node'), { maxKeys: 4 }),
    ),
  })).node;
  fc.assert(
    fc.property(value, fc.integer({ min: 0, max: 8 }), (v, max) => {
      const text = JSON.stringify(v);
      return exceedsJsonDepth(text, max) === depthOf(v) > max;
    }),
    { numRuns: 2_000 },
  );
  t.pass();
});
