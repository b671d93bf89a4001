/**
 * formDecode (credential-pairs.ts) reads one form field's name or value as a plugin's reader does:
 * this runtime's `URLSearchParams` (twilio's), on any mix of escapes, bare `%`, `+`, bytes that are
 * no UTF-8 and characters past ASCII. A value decoded otherwise is looked for in the plugin's
 * words where they hold something else, and stays there.
 */
import test from 'ava';
import fc from 'fast-check';
import { formDecode } from '../../../core/plugin-host/credential-pairs.js';

/** Pieces of a field: letters, escapes of ASCII and of UTF-8 (whole, cut, invalid), `%` and `+`. */
const PIECES = [
  'a',
  'k',
  'T',
  '0',
  '=',
  '+',
  '%',
  '%2',
  '%ZZ',
  '%41',
  '%6b',
  '%2B',
  '%C3',
  '%A9',
  '%C3%A9',
  '%E2%82',
  '%E2%82%AC',
  '%F0%9F%98%80',
  '%FF',
  '%EF%BB%BF',
  '\u00e9',
  '\u016b',
  '\u212a',
  '\u{1f600}',
  '\ufeff',
];

/** What the plugin's reader gives for `part` as a field's value (a name is decoded alike). */
const readerOf = (part: string): string | null => new URLSearchParams(`k=${part}`).get('k');

test('a field is decoded as this runtime URLSearchParams decodes it', (t) => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 8 }), (pieces) => {
      const part = pieces.join('');
      return formDecode(part) === readerOf(part);
    }),
    { numRuns: 3_000, seed: 18_003 },
  );
  t.pass();
});

test('the reader decodes a field the way the property above holds formDecode to', (t) => {
  // the property is only worth what its reader is: a name twilio reads as a credential
  t.is(readerOf('Auth%54oken'), 'AuthToken');
  t.is(readerOf('a+b%2B'), 'a b+');
});
