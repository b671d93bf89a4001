/**
 * V8's quote of the input in a JSON.parse error is cut out (decode.ts, withoutJsonSnippet): the
 * agent API's `invalid_json`, the connector's malformed lines, and every word a plugin writes
 * (task-secrets.ts), log fields of up to 16 KiB among them, go through it.
 */
import test from 'ava';
import { parseErrorReason, withoutJsonSnippet } from '../../../core/protocol/decode.js';

function v8(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('parsed');
}

test("V8's quote is cut out, in each of its forms; the position stays", (t) => {
  t.is(parseErrorReason(new Error(v8('not json'))), "Unexpected token 'o' (not valid JSON)");
  const long = v8(`{"a":1,"token":SEKRET0123456789abcdef}`);
  t.regex(long, /\.\.\."/);
  t.is(withoutJsonSnippet(long), "Unexpected token 'S' (not valid JSON)");
  t.is(withoutJsonSnippet(`hook threw: SyntaxError: ${v8('{"x":"y" "z"}')}`).includes('"'), false);
  // messages V8 gives without a quote are kept whole
  const positional = v8('{"a":1,}');
  t.is(withoutJsonSnippet(positional), positional);
  t.is(withoutJsonSnippet('no quote here'), 'no quote here');
});

test('text with many quotes and no V8 phrase is kept, and searched in one pass', (t) => {
  // a plugin's 16 KiB log field of quotes: the regex this replaced tried every quote against the
  // rest of the text (2.6 s of the main thread for 16 000 quotes)
  const quotes = '"'.repeat(200_000);
  t.is(withoutJsonSnippet(quotes), quotes);
  const pairs = '"a'.repeat(100_000);
  t.is(withoutJsonSnippet(`${pairs}x is not valid JSON`), `${pairs}x is not valid JSON`);
  t.is(withoutJsonSnippet(`say "this" and "that" is not valid JSON`), 'say (not valid JSON)');
});
