/**
 * The patterns that read a body past its budget of keys (credential-pairs.ts) agree with the walk
 * within it on every credential word and pair of credential-key.ts's lists: a word added there is
 * found past the budget too, in JSON, cut-off JSON and form bodies, written every usual way.
 */
import test, { type ExecutionContext } from 'ava';
import { CREDENTIAL_PAIR_WORDS, CREDENTIAL_WORDS } from '../../../core/protocol/credential-key.js';
import { readAlike } from './budget-readings.js';

/** A JSON `\u` escape and a form's `%XX` of one ASCII character. */
const jsonEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
const formEscape = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
const capital = (w: string): string => `${w[0]?.toUpperCase()}${w.slice(1)}`;

/**
 * A key's name written the usual ways, from its words (one credential word, or a pair's two):
 * each as a JSON key (written in the body, quotes included) and a form field's name.
 */
function spellings(words: readonly string[]): [string, string][] {
  const last = words[words.length - 1] ?? '';
  const head = words.slice(0, -1);
  const plain = (sep: string, lastWord = last): string => [...head, lastWord].join(sep);
  const keys: [string, string][] = [
    [`"${plain('_')}"`, plain('_')],
    [`"x_${plain('_')}"`, `x_${plain('_')}`],
    [`"x${words.map(capital).join('')}"`, `x${words.map(capital).join('')}`],
    [`"X_${plain('_').toUpperCase()}"`, `X_${plain('_').toUpperCase()}`],
    [`"x-${plain('-')}_"`, `x-${plain('-')}_`],
    [`"${plain(' ')} "`, `${plain('+')}+`],
    // the last word's first letter escaped; the separator before it escaped; one after it
    [
      `"${plain('_', `${jsonEscape(last[0] ?? '')}${last.slice(1)}`)}"`,
      plain('_', `${formEscape(last[0] ?? '')}${last.slice(1)}`),
    ],
    [`"${plain('\\u005f')}\\u0020"`, `${plain('%5F')}%20`],
    // an escaped quote or backslash is a separator to the walk, before, between and after words
    [`"x\\"${plain('\\"')}\\""`, `x%22${plain('%22')}%22`],
    [`"x\\\\${plain('\\\\')}\\\\"`, `x%5C${plain('%5C')}%5C`],
    [`"x\\\\\\"${plain('\\\\\\"')}"`, `x%5C%22${plain('%5C%22')}`],
  ];
  // the Kelvin sign (U+212A) lowercases to `k`: the walk reads it as one
  if (last.includes('k'))
    keys.push([`"${plain('_', last.replace('k', '\\u212A'))}"`, plain('_', last.replace('k', '%E2%84%AA'))]);
  return keys;
}

/** Each spelling of each name of `names` (its words) is found (`expected`, or not) by every reading. */
function agree(t: ExecutionContext, names: readonly (readonly string[])[], expected: boolean): void {
  readAlike(
    t,
    names.flatMap((words) => spellings(words)),
    expected,
  );
}

test('every credential word of the lists is found past the budget of keys as within it', (t) => {
  t.true(CREDENTIAL_WORDS.size > 0);
  agree(
    t,
    [...CREDENTIAL_WORDS].map((word) => [word]),
    true,
  );
  // a letter or digit after it makes another last word: found by no reading
  agree(
    t,
    [...CREDENTIAL_WORDS].map((word) => [`${word}x`]),
    false,
  );
});

test('every credential pair of the lists is found past the budget of keys as within it', (t) => {
  t.true(CREDENTIAL_PAIR_WORDS.length > 0);
  agree(t, CREDENTIAL_PAIR_WORDS, true);
  agree(
    t,
    CREDENTIAL_PAIR_WORDS.map(([first, last]) => [`${first}0`, last]),
    false,
  );
});

test('a JSON key holding an escaped quote or backslash is read whole past the budget of keys, as within it', (t) => {
  // the walk parses `api"key` (the pair api key) and `token"`; past the budget the key was read
  // from its escaped quote (`key`) or not at all
  readAlike(t, [
    ['"api\\"key"', 'api%22key'],
    ['"x\\"_api_key"', 'x%22_api_key'],
    ['"token\\""', 'token%22'],
    ['"private\\"\\"key"', 'private%22%22key'],
    ['"\\"token"', '%22token'],
    ['"a\\\\\\"b_token"', 'a%5C%22b_token'],
    ['"signing\\\\key"', 'signing%5Ckey'],
    ['"token\\\\"', 'token%5C'],
  ]);
  // a word after the quote is the last one: no credential, read alike
  readAlike(
    t,
    [
      ['"token\\"s"', 'token%22s'],
      ['"x\\"token\\"y"', 'x%22token%22y'],
    ],
    false,
  );
});

test('a form field name with a % starting no escape is found past the budget of keys as within it', (t) => {
  // a `%` not starting an escape: the walk reads the name as written (`token%` ends in `token`)
  readAlike(t, [
    ['"token%"', 'token%'],
    ['"api_key_%"', 'api_key_%'],
    ['"Secret%%"', 'Secret%%'],
    ['"x%zz_token+%"', 'x%zz_token+%'],
  ]);
  // as written, `token%2` ends in the word `2`
  readAlike(t, [['"token%2"', 'token%2']], false);
});

test('a key of 63 to 66 characters, escaped or padded with separators, is read alike past the budget of keys', (t) => {
  const keys: [string, string][] = [];
  for (const length of [63, 64, 65, 66]) {
    const pad = length - '_api_key'.length;
    keys.push([`"${'x'.repeat(pad)}_api_key"`, `${'x'.repeat(pad)}_api_key`]);
    keys.push([`"${'\\u0078'.repeat(pad)}_api\\u005fkey"`, `${'%78'.repeat(pad)}_api%5Fkey`]);
    // separators after the word, or between the pair's words, as long as the key
    keys.push([`"token${'_'.repeat(length - 5)}"`, `token${'_'.repeat(length - 5)}`]);
    keys.push([`"api${'\\u0020'.repeat(length - 6)}key"`, `api${'+'.repeat(length - 6)}key`]);
  }
  readAlike(t, keys);
});
