/**
 * Credential removal from a body that is not JSON — truncated, or otherwise broken — by reading it
 * as JSON-like text: every `"key": value` pair whose key is a credential name gets its value
 * replaced, the rest of the text is left exactly as it was (forensic value is kept). Pure; works
 * on a latin1 string, one character per byte, so bytes that are not UTF-8 survive the round trip
 * (every byte of a multi-byte UTF-8 character is ≥ 0x80, so none is mistaken for `"`, `\` or `:`).
 */

/** What a redacted value becomes. */
export const REDACTED_VALUE = '"[redacted]"';

/** The text with the value of every credential key replaced, and how many were. */
export interface TextRedaction {
  readonly text: string;
  readonly redacted: number;
}

/** Which keys name a credential (credential-key.ts's rule, or a fixed list in a test). */
export type CredentialKeyTest = (key: string) => boolean;

/**
 * Replace the value of every `"<key>": value` pair whose (JSON-decoded) key is a credential: a
 * string (possibly cut off at the end of the text), an object or array (to its matching bracket or
 * the end), or a bare scalar (to the next `,`, `}`, `]` or whitespace). `true`, `false` and `null`
 * hold no secret and are kept.
 */
export function redactSecretPairs(text: string, isKey: CredentialKeyTest): TextRedaction {
  let out = '';
  let copied = 0;
  let redacted = 0;
  let at = text.indexOf('"');
  while (at >= 0) {
    const end = stringEnd(text, at);
    // an unterminated string runs to the end: nothing after it to redact
    if (end < 0) break;
    const colon = skipSpace(text, end);
    const start = skipSpace(text, colon + 1);
    // a key at the very end of a cut-off body has no value to hide
    if (text[colon] === ':' && start < text.length && isKey(decodeKey(text.slice(at, end)))) {
      const stop = valueEnd(text, start);
      if (NO_SECRET_LITERAL.test(text.slice(start, stop))) {
        at = text.indexOf('"', stop);
        continue;
      }
      out += text.slice(copied, start) + REDACTED_VALUE;
      copied = stop;
      redacted += 1;
      at = text.indexOf('"', stop);
    } else {
      at = text.indexOf('"', end);
    }
  }
  return redacted === 0 ? { text, redacted } : { text: out + text.slice(copied), redacted };
}

/** A bare value that holds no secret. */
const NO_SECRET_LITERAL = /^(?:true|false|null)$/;

/**
 * An opening quote (maybe escaped), a key spelled without escapes, the closing quote, a colon:
 * every place a `"key": value` pair starts, JSON inside a JSON string included. The lookbehind
 * starts a match only at the first backslash of a run: without it a run of k backslashes was
 * tried from each of its k positions, each trying every shorter run (200 KB of `\` took 53 s of
 * the main thread).
 */
const KEY_AT = /(?<!\\)\\*"([^"\\]*)\\*"\s*:/g;

/** After a key's colon: a value that is safe to leave (the placeholder, a literal, or nothing at all). */
const SAFE_VALUE = /\s*(?:"\[redacted\]"|(?:true|false|null)(?![\w"])|$)/y;

/**
 * Whether `text` still shows a credential key followed by a value other than {@link REDACTED_VALUE}
 * — also with escaped quotes (`\"token\": …`, JSON inside a string), which the pair scan does
 * not look into. A body for which this holds is not stored at all. Linear in the text's length.
 */
export function hasSecretPair(text: string, isKey: CredentialKeyTest): boolean {
  const keyAt = new RegExp(KEY_AT);
  const safe = new RegExp(SAFE_VALUE);
  for (let m = keyAt.exec(text); m !== null; m = keyAt.exec(text)) {
    safe.lastIndex = keyAt.lastIndex;
    if (isKey(m[1] as string) && !safe.test(text)) return true;
  }
  return false;
}

/** Index just past the string literal opening at `at`, or -1 when it is not closed. */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i += 1;
    else if (c === '"') return i + 1;
  }
  return -1;
}

/** The key a string literal spells (escapes decoded), or its raw content when it is not valid JSON. */
function decodeKey(literal: string): string {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return literal.slice(1, -1);
  }
}

function skipSpace(text: string, at: number): number {
  let i = at;
  while (i < text.length && /\s/.test(text[i] as string)) i++;
  return i;
}

/** Index just past the value starting at `start` (the end of the text when it is cut off). */
function valueEnd(text: string, start: number): number {
  const c = text[start];
  if (c === '"') {
    const end = stringEnd(text, start);
    return end < 0 ? text.length : end;
  }
  if (c === '{' || c === '[') return bracketEnd(text, start);
  let i = start;
  while (i < text.length && !/[\s,}\]]/.test(text[i] as string)) i++;
  return i;
}

/** Index just past the bracket matching the one at `start` (strings skipped), or the text's end. */
function bracketEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return text.length;
      i = end - 1;
    } else if (c === '{' || c === '[') {
      depth += 1;
    } else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}
