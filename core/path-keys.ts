/**
 * Key-like URL path segments: the one rule that takes a key out of a path segment, known or not.
 * A URL that holds its own key there (Discord's `/webhooks/<id>/<token>`, Slack's `response_url`
 * and incoming webhooks, a provider's `/hooks/<secret>`) is often under a key not named like a
 * credential, so its value is not known to be a secret. Every redaction of a text takes it
 * (secret-matcher.ts), and so does a dead letter's stored path (sidecar/inbox/redact-frame.ts).
 *
 * A scan, not a regexp: the pattern it replaces (a backtracking `{20,}` of the segment's
 * characters) threw RangeError (regexp stack) on a segment of 8 MiB, which a forward's path may
 * be. Pure; linear in the text, each character read once by the scan and once by the judgement.
 */

/** What a secret becomes in a text. */
export const REDACTED = '[redacted]';

/** A key is 20 characters or more of its alphabet; shorter segments are ids and words. */
const MIN_KEY_CHARS = 20;

/** Whether each ASCII code is one of a key's alphabet in a path: `[A-Za-z0-9_~%+=.-]`. */
const SEGMENT_CHARS = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~%+=.-')
  SEGMENT_CHARS[c.charCodeAt(0)] = 1;

/**
 * What may follow a segment: the end of a path or of its part (`/?#&`), a quote, bracket or
 * space of the text around a URL, or a delimiter RFC 3986 lets a segment hold (`;` params, `:`,
 * `@`, `!`, `$`, `*`, `(`, `)`, `,`, `'`). A segment going on in any other character (one past
 * ASCII) is no key's whole.
 */
const SEGMENT_END = /^[/?#&\s'"`),;\]>:@!$*(]$/;

/**
 * Delimiters RFC 3986 lets a segment hold (`:` `@` `;` `,` `!` `$` `*` `(`) after which a key may
 * start within it: Telegram's `/<bot id>:<token>` (the webhook path its libraries suggest) and
 * `/bot<id>:<token>/sendMessage`, a `;key=<key>` param, the password of `https://user:<key>@host`.
 */
const PART_START = new Uint8Array(128);
for (const c of ':@;,!$*(') PART_START[c.charCodeAt(0)] = 1;

/**
 * Where a query's parts start once a part ended at `?`: each name and each value is judged alone
 * (`=` ends a part there), whatever the name: an Azure Functions key (`?code=<key>`), a Logic Apps
 * signature (`&sig=`), a Google API key (`?key=`) and a bare `?<key>` are under no credential's name.
 */
const QUERY_PART_START = new Uint8Array(128);
for (const c of '?&=#') QUERY_PART_START[c.charCodeAt(0)] = 1;
const QUESTION = 0x3f;
const EQUALS = 0x3d;
const SLASH = 0x2f;
const PERCENT = 0x25;

/**
 * Ids and names that mix cases and digits, yet are no key: a ULID after a lower-case prefix (the
 * sidecar's own `dlv_<ulid>` and `dl_<ulid>`), a Twilio SID (two capitals, 32 lower-case hex: the
 * `Accounts/AC…` of every Twilio API path), a temp dir of lower-case words and mkdtemp's six
 * characters (`relay-sidecar-store-a8Bx9Q`). A key's random characters fit none of these but by
 * a negligible chance (a lower-case prefix, then exactly the shape's rest). Tried only on
 * segments up to {@link MAX_ID_CHARS}: a longer one is none of them.
 */
const ID_SHAPES = [
  /^[a-z]{1,16}_[0-9A-HJKMNP-TV-Z]{26}$/,
  /^[A-Z]{2}[0-9a-f]{32}(?:\.[a-z]{2,5})?$/,
  /^[a-z]+(?:[-_.][a-z]+)*[-_.][A-Za-z0-9]{6}$/,
];
const MAX_ID_CHARS = 256;

/** The value of a hex digit's code, or -1. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** The codes of `+`, `/` and `=`, a base64 key's own symbols. */
const BASE64_SYMBOLS = new Set([0x2b, 0x2f, 0x3d]);

/**
 * Whether a path segment looks like a key: upper case, lower case and digits mixed, once its
 * `%XX` escapes are read (one past ASCII dropped: the hex digits and capitals of `caf%C3%A9` or
 * `a%2Fb` are no key's mixed alphabet). An escaped `+`, `/` or `=` counts as a digit: read
 * undecoded, its hex digit made a key of the base64 keys whose own characters hold none (one in
 * 30 of 20 characters), and decoded alone it left them in the path. Ids do not look like keys (a
 * snowflake is digits, a UUID lower-case hex, a ULID upper case, or {@link ID_SHAPES}), nor words
 * (`status-callback`, `caf%C3%A9-au-lait`, `reports%2Fweekly%2Fsummary`).
 *
 * One loop over the segment: decoding it with a regexp's callback per escape cost ~3.5 s of
 * main-thread CPU for a 16 MiB path of `%C3%A9` (a dead letter's, redacted as it is stored).
 */
function keyLike(segment: string): boolean {
  if (!segment.includes('%'))
    return (
      /[A-Z]/.test(segment) &&
      /[a-z]/.test(segment) &&
      /[0-9]/.test(segment) &&
      (segment.length > MAX_ID_CHARS || !ID_SHAPES.some((shape) => shape.test(segment)))
    );
  let upper = false;
  let lower = false;
  let digit = false;
  // the segment decoded (kept only while short enough for an id's shape), in slices between escapes
  let plain = '';
  let kept = 0;
  let length = 0;
  for (let at = 0; at < segment.length; at++) {
    let code = segment.charCodeAt(at);
    if (code === PERCENT && at + 2 < segment.length) {
      const high = hexValue(segment.charCodeAt(at + 1));
      const low = hexValue(segment.charCodeAt(at + 2));
      if (high >= 0 && low >= 0) {
        code = high * 16 + low;
        if (length <= MAX_ID_CHARS)
          plain += segment.slice(kept, at) + (code < 0x80 ? String.fromCharCode(code) : '');
        at += 2;
        kept = at + 1;
        if (code >= 0x80) continue;
        if (BASE64_SYMBOLS.has(code)) digit = true;
      }
    }
    if (code >= 0x41 && code <= 0x5a) upper = true;
    else if (code >= 0x61 && code <= 0x7a) lower = true;
    else if (code >= 0x30 && code <= 0x39) digit = true;
    length++;
  }
  if (length <= MAX_ID_CHARS) plain += segment.slice(kept);
  return upper && lower && digit && (length > MAX_ID_CHARS || !ID_SHAPES.some((shape) => shape.test(plain)));
}

/**
 * Where each key-like segment of `text` starts and ends: after a `/` (or a {@link PART_START} that
 * ends the part of a segment before it), {@link MIN_KEY_CHARS} or more of a key's alphabet up to a
 * {@link SEGMENT_END} or the text's end; at most `max`. The scan goes on from each part's end (no
 * part holds a `/` or a {@link PART_START}), so each character is read once.
 */
function keySegments(text: string, max: number): [number, number][] {
  const found: [number, number][] = [];
  let before = text.indexOf('/');
  // within a URL's query ({@link QUERY_PART_START}): from a `?` that ended a part to what ends the URL
  let query = false;
  while (before >= 0 && found.length < max) {
    // a query's name ends at `=`; its value holds any (a base64 key's padding)
    const name = query && text.charCodeAt(before) !== EQUALS;
    let end = before + 1;
    while (
      end < text.length &&
      SEGMENT_CHARS[text.charCodeAt(end)] === 1 &&
      !(name && text.charCodeAt(end) === EQUALS)
    )
      end++;
    const next = text.charCodeAt(end);
    if (
      end - before - 1 >= MIN_KEY_CHARS &&
      (end === text.length || SEGMENT_END.test(text.charAt(end)) || (name && next === EQUALS)) &&
      keyLike(text.slice(before + 1, end))
    )
      found.push([before + 1, end]);
    if (next === QUESTION) query = true;
    // what follows `:` `;` `@` … within the segment, or `?` `&` `=` in a query, is its own part
    if (PART_START[next] === 1 || (query && QUERY_PART_START[next] === 1)) before = end;
    else {
      query &&= next === SLASH;
      before = text.indexOf('/', end);
    }
  }
  return found;
}

/** `text` with every key-like path segment replaced by {@link REDACTED}; `text` itself when none. */
export function withoutPathKeys(text: string): string {
  let out = '';
  let kept = 0;
  for (const [start, end] of keySegments(text, Number.POSITIVE_INFINITY)) {
    out += text.slice(kept, start) + REDACTED;
    kept = end;
  }
  return kept === 0 ? text : out + text.slice(kept);
}

/**
 * Whether `text` holds a part {@link withoutPathKeys} blanks: a {@link REDACTED} after a `/` or a
 * {@link PART_START} (a stored path's, and a replayed one's, whose key is gone already).
 */
export function holdsBlankedKey(text: string): boolean {
  for (let at = text.indexOf(REDACTED, 1); at > 0; at = text.indexOf(REDACTED, at + 1)) {
    const code = text.charCodeAt(at - 1);
    if (code === SLASH || PART_START[code] === 1 || QUERY_PART_START[code] === 1) return true;
  }
  return false;
}

/**
 * The key-like path segments of `text`, as they are written (escapes kept), the first `max`, of
 * those that end within its first `within` characters: one running to that bound may go on past
 * it, and its start alone is no key's whole.
 */
export function pathKeys(text: string, max: number, within = text.length): string[] {
  // one character past the bound says whether a part reaching it is whole
  const read = text.length > within ? text.slice(0, within + 1) : text;
  return keySegments(read, max)
    .filter(([, end]) => end < read.length || read === text)
    .map(([start, end]) => text.slice(start, end));
}
