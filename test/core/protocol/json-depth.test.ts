import test from 'ava';
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
