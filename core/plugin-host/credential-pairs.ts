/**
 * The pairs of a body's text found without reading it whole: a JSON pair or a form field under a
 * key that may name a credential, and a quoted pair of a broken body. task-secrets.ts walks a
 * body's keys up to its budget; past it, only these patterns look, and only keys ending in a
 * credential word can match them, so the work stays one pass of the (bounded) text.
 *
 * A key is matched however a reader would take it: a JSON key may write any letter as a `\uXXXX`
 * escape (`"to\u006ben"` is `token`) and a form field's name as `%XX` (`Auth%54oken`). The walk
 * within the budget decodes keys (JSON.parse, the form's decoding); the patterns took the words
 * written plain alone, so past the budget an escaped key hid its value. A key may also go on past
 * its credential word with separators (`token_`, `Token-`): the rule reads the same last word. A
 * JSON key is read whole, escaped quotes and all, from a quote no backslash escapes. Every try of
 * a pattern is bounded (a key or a value to its closing quote), so a hostile body of
 * quotes, backslashes and near-words costs a few ms per 256 KiB. Pure.
 */

import { CREDENTIAL_ENDS, NON_ASCII } from '../protocol/credential-key.js';

/**
 * Letters a reader of a key also takes for an ASCII letter: the Kelvin sign (U+212A) lowercases to
 * `k`, so isCredentialKey reads `to\u212Aen` as `token`, while the patterns' `i` flag (without
 * `u`) never matches it for `k`. It is the only code point whose lowercase is an ASCII letter
 * alone (`İ` gives `i` and a combining dot, which splits the word).
 */
const READ_AS: Readonly<Record<string, readonly string[]>> = { k: ['\u212A'] };

/** `c` in a pattern: a letter as it is, any other code point as a `\uXXXX` escape of the pattern. */
function literal(c: string): string {
  return /^[a-z]$/i.test(c) ? c : `\\u${code(c)}`;
}

/** `c`'s UTF-16 code in hex, four digits (what a JSON escape writes). */
function code(c: string): string {
  return c.charCodeAt(0).toString(16).padStart(4, '0');
}

/**
 * `word` as a pattern whose every letter may also be written escaped: `escaped(c)` is the
 * pattern of a character's escaped form. Both cases, and the letters a reader takes for it
 * ({@link READ_AS}), as the patterns' `i` flag reads the plain ASCII letter only.
 */
function spelled(word: string, escaped: (c: string) => string): string {
  return [...word]
    .map((c) => {
      const alike = READ_AS[c.toLowerCase()] ?? [];
      const forms = [c, ...alike.map(literal), ...[c.toLowerCase(), c.toUpperCase(), ...alike].map(escaped)];
      return `(?:${forms.join('|')})`;
    })
    .join('');
}

/** A character escaped in a JSON string: `\u` and its code (the `i` flag reads its hex's case). */
function jsonEscaped(c: string): string {
  return `\\\\u${code(c)}`;
}

/** Characters escaped in a form: `%` and each byte of their UTF-8 (a lone surrogate U+FFFD's). */
function formEscaped(c: string): string {
  return [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

/**
 * The end of a key that may name a credential, written plain or escaped (`escaped` as in
 * {@link spelled}): the ends credential-key.ts derives from its words, so none is kept twice.
 */
function credentialEnd(escaped: (c: string) => string): string {
  return `(?:${CREDENTIAL_ENDS.map((word) => spelled(word, escaped)).join('|')})`;
}

/**
 * A byte of the Kelvin sign's UTF-8 as a form's reader may meet it: raw (a character whose low
 * byte it is: Node 20's reader cuts a part holding a byte that is no UTF-8 to low bytes, see
 * {@link formDecode}) or escaped, each byte either way.
 */
const KELVIN_BYTES = [...Buffer.from('\u212A', 'utf8')]
  .map((b) => b.toString(16))
  .map((hex) => `(?:\\u00${hex}|%${hex})`)
  .join('');

/** {@link formEscaped}, and for the Kelvin sign its bytes one by one ({@link KELVIN_BYTES}). */
function formOrByteEscaped(c: string): string {
  return c === '\u212A' ? `(?:${formEscaped(c)}|${KELVIN_BYTES})` : formEscaped(c);
}

/**
 * A credential word's end anywhere in a form's text, each letter plain (any case), `%XX`, or the
 * Kelvin sign's bytes: every field a reader takes for a credential holds one in its name, so a
 * text without it needs no walk of its fields (the dead letters' prefilter, redact-form.ts). Run
 * on the text, and on its low bytes (`Buffer.from(text, 'latin1')`) where the reader may cut to
 * them. No repeat in it: one bounded try per position.
 */
export const CREDENTIAL_WORD_IN_FORM = new RegExp(credentialEnd(formOrByteEscaped), 'gi');

/**
 * One character of a JSON string: plain, or escaped (`\"`, `\\`, `\/`, `\u0074`'s start; any
 * character after the backslash, as a broken body may hold one JSON.parse refuses).
 */
const JSON_CHAR = '(?:[^"\\\\]|\\\\[\\s\\S])';
/**
 * A JSON string's characters, any number: {@link JSON_CHAR} unrolled, so a text has one reading
 * of them and a try backs off through them once (an alternation starred made V8 keep a step for
 * each character of a 256 KiB body).
 */
const JSON_CHARS = '[^"\\\\]*(?:\\\\[\\s\\S][^"\\\\]*)*';
/**
 * A quote no backslash escapes (an even number of them before it), where a string of the body
 * starts or ends: only there does a try start. A key is read whole to its closing quote, past
 * escaped ones, as JSON.parse reads it: read from every quote, a key holding an escaped quote was
 * read from it (`api\"key` as `key`, no credential: past the budget its value was missed where the
 * walk finds the pair `api key`; `token\"` not at all), and a key read past escaped quotes from
 * every quote made a body of `"\` pairs cost ~0.2 s. The backslashes before a quote are counted
 * backwards once, from the quote, so a run of them costs its length.
 */
const STRING_QUOTE = '"(?<=(?:^|[^\\\\])(?:\\\\\\\\)*")';

/**
 * Hex codes of the ASCII characters that are no letter or digit: separators to the rule, which
 * reads `token_`, `Token-` or `token ` as ending in the word `token`.
 */
const SEPARATOR_HEX = '(?:[01][0-9a-f]|2[0-9a-f]|3[a-f]|40|5[b-f]|60|7[b-f])';
/**
 * What may follow a credential word to a JSON key's quote: separators, plain or escaped (`\u005f`,
 * `\/`, `\"`, a code past ASCII), never a letter or digit the rule would read as a word, so a key's end
 * is read once (no try runs past the next letter). The pattern ended at the word, and past the
 * budget `"token_"` hid its value, which the walk found.
 */
const JSON_KEY_TAIL = `(?:[^"\\\\A-Za-z0-9\\u212A]|\\\\[^u]|\\\\u(?:00${SEPARATOR_HEX}|00[89a-f][0-9a-f]|(?!00|212a)[0-9a-f]{4}))*`;
/**
 * {@link JSON_KEY_TAIL} of a form field's name: separators plain (`+` a space) or `%XX`, and a `%`
 * as it is: {@link formDecode} keeps a `%` starting no escape (`token%`), a separator after the word.
 */
const FORM_KEY_TAIL = `(?:[^=&A-Za-z0-9\\u212A]|%${SEPARATOR_HEX}|%[89a-f][0-9a-f])*`;

/**
 * A JSON string value of 8 characters or more, read whole to its closing quote, as the walk takes
 * it: cut at 4 096 characters, a longer one (a PEM private key) past the budget was missed. Only
 * a try whose key matched reads one, and each stretch between two unescaped quotes is read as a
 * value by at most the one try whose key ends just before it, so the bound is not needed.
 */
const JSON_VALUE = `"(${JSON_CHAR}{8}${JSON_CHARS})"`;

/**
 * A JSON pair under a key that may name a credential: a string starting at a quote no backslash
 * escapes ({@link STRING_QUOTE}) and read whole, its end plain or `\u00XX`, then a string value.
 * A key is as long as it is (isCredentialKey reads the last 64 characters; cut at 64 here, a
 * longer key past the budget hid its token, which the walk found). Each try is bounded (the next
 * unescaped quote, for the key and for the value), so a body of backslashes and quotes costs one
 * bounded pass.
 */
export const CREDENTIAL_PAIR = new RegExp(
  `${STRING_QUOTE}(${JSON_CHARS}${credentialEnd(jsonEscaped)}${JSON_KEY_TAIL})"\\s*:\\s*${JSON_VALUE}`,
  'gi',
);

/** A form field under a key that may name a credential, of any length: its end plain or `%XX`. */
export const CREDENTIAL_FIELD = new RegExp(
  `(?:^|&)([^=&]*${credentialEnd(formEscaped)}${FORM_KEY_TAIL})=([^&]{8,})`,
  'gi',
);

/**
 * `"<key>": "<value>"` in text that is not JSON (a body cut off by the connector): a key read
 * whole as {@link CREDENTIAL_PAIR} reads it, of any length (64 characters at most hid a longer
 * credential key of such a body); escapes as they are.
 */
export const QUOTED_PAIR = new RegExp(
  `${STRING_QUOTE}(${JSON_CHAR}${JSON_CHARS})"\\s*:\\s*${JSON_VALUE}`,
  'g',
);

/** A JSON string's raw text (between its quotes) as a reader takes it; as is when malformed. */
export function jsonString(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/** A `%` starting no escape of an ASCII character: a bare one, or a byte's that may be no UTF-8. */
const UNSAFE_PERCENT = /%(?![0-7][0-9a-f])/i;
/** A `%XX` escape. */
const ESCAPE = /%([0-9a-f]{2})/gi;

/**
 * A form field's name or value (one field's part: no `&`) as a plugin reads it: as this runtime's
 * `URLSearchParams` (twilio's reader) does, `+` a space, `%XX` a byte, a `%` starting no escape
 * kept as it is. `decodeURIComponent` refused such a text whole, which was then read as written:
 * `Auth%54oken%` (the plugin's `AuthToken%`) named no credential. The runtime's reader, not the
 * URL standard's: given bytes that are no UTF-8, Node 20's cuts the part's other characters to
 * their low byte (`\u00e9%C3` is two U+FFFD, `to\u016Ben%C3` is `token\uFFFD`), and a value
 * decoded as the standard does was not what the plugin's words held. No throw: a form of
 * thousands of `%C3` fields cost a throw of `decodeURIComponent` per field, then another in the
 * reader's own fallback (test/core/plugin-host/form-decode.property holds it to the reader).
 */
export function formDecode(text: string): string {
  // nothing to decode: most keys and values, and the decoding's call is not free
  if (!text.includes('%') && !text.includes('+')) return text;
  // past ASCII the reader itself, whose cut to the low byte only it knows (a decoding that
  // succeeds costs no throw in it)
  if (NON_ASCII.test(text)) return new URLSearchParams(`k=${text}`).get('k') ?? text;
  const spaced = text.replace(/\+/g, ' ');
  // escapes of ASCII alone: decodeURIComponent cannot throw, and is the cheapest
  if (!UNSAFE_PERCENT.test(spaced)) return decodeURIComponent(spaced);
  // each escape a byte, bytes that are no UTF-8 each a U+FFFD: the reader's reading of an ASCII
  // text (one character per byte), without the throw its decodeURIComponent makes first
  const bytes = spaced.replace(ESCAPE, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
