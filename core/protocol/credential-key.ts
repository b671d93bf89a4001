/**
 * Which object keys (and form field names) name a credential: what the dead-letter redaction
 * removes (sidecar/inbox/redact-frame.ts) and what the follow-up plugin refuses in an agent's
 * `follow_up` (plugins/follow-up/credential-check.ts). Exact names alone (`token`, `secret`, …) let the usual spellings of the same
 * thing through — `access_token`, `client_secret`, `botToken`, `X-Api-Key`, `Token` — so a key is
 * a credential when its **last word** is a credential word, or its last two words are a
 * credential pair (`api key`, `private key`). Words are split at `_`, `-`, `.`, spaces and
 * camelCase humps and compared case-insensitively. `tokens` or `token_type` are not credentials
 * (their last word is not one); a boolean or `null` under a credential key holds no secret and is
 * kept (`is_secret: true`), which the callers decide by value.
 */

/**
 * Header names that can carry credentials (an `Authorization`, a cookie, Discord's and Twilio's
 * signatures, an API key), by a part of the name; {@link isCredentialHeader} reads the rest.
 */
const SECRET_HEADER = /authorization|cookie|token|secret|signature|api[-_]?key|password/i;

/**
 * Last words that make a key a credential. Every list of credential words is derived from this
 * one and {@link CREDENTIAL_PAIR_WORDS}: the patterns that read a body past its key budget
 * (plugin-host/credential-pairs.ts) kept their own copy, which a word added here would miss.
 */
export const CREDENTIAL_WORDS: ReadonlySet<string> = new Set([
  'token',
  'secret',
  'password',
  'passwd',
  'passphrase',
  'authorization',
  'apikey',
  'credential',
  'credentials',
]);

/** Last two words that make a key a credential, each pair as its two words (`api key`). */
export const CREDENTIAL_PAIR_WORDS: readonly (readonly [string, string])[] = [
  ['api', 'key'],
  ['private', 'key'],
  ['secret', 'key'],
  ['access', 'key'],
  ['signing', 'key'],
];

/** {@link CREDENTIAL_PAIR_WORDS} joined, as the split compares them. */
const CREDENTIAL_PAIRS: ReadonlySet<string> = new Set(CREDENTIAL_PAIR_WORDS.map(([a, b]) => `${a}${b}`));

/**
 * How a credential key's letters may end: every credential word and every pair's last word,
 * less those ending in another (`apikey` ends in `key`), as the patterns past the key budget
 * need them (a key is matched by its end, then read by {@link isCredentialKey}). Built once.
 */
export const CREDENTIAL_ENDS: readonly string[] = ((): string[] => {
  const all = [...new Set([...CREDENTIAL_WORDS, ...CREDENTIAL_PAIR_WORDS.map(([, last]) => last)])];
  return all.filter((word) => !all.some((end) => end !== word && word.endsWith(end)));
})();

/** The key's words, lowercased: `clientSecret` → `client secret`, `X-API-Key` → `x api key`. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/**
 * A key whose last word is plainly a credential word: all lower or upper case after a separator
 * or at the start (`k7_token`, `API_SECRET`), or capitalised anywhere (`AuthToken`, `ABToken`:
 * the camelCase split always starts a word at such a capital). Such a key is a credential
 * without the split, which cost most of a search through a body of thousands of
 * credential-named decoys; any other ASCII key takes the scan of its last two words
 * ({@link asciiCredential}), and a key with other characters the split. The Kelvin sign
 * (U+212A) is no separator before either: the split lowercases it to `k` (`\u212Atoken` is
 * `ktoken`).
 */
const PLAIN_CREDENTIAL_END = new RegExp(
  `(?:(?:^|[^A-Za-z0-9\u212A])(?:${[...CREDENTIAL_WORDS].map((w) => `${w}|${w.toUpperCase()}`).join('|')})|(?<!\u212A)(?:${[
    ...CREDENTIAL_WORDS,
  ]
    .map((w) => `${w[0]?.toUpperCase()}${w.slice(1)}`)
    .join('|')}))$`,
);

/**
 * A character past ASCII: one the ASCII scan cannot read as the split does (`\u212A` lowercases
 * to `k`), and where a form's reader may cut a part to its low bytes (credential-pairs.ts).
 */
export const NON_ASCII = /[^\0-\x7f]/;

/** Whether the ASCII character code `c` is a digit, a lower or an upper case letter. */
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLower = (c: number): boolean => c >= 97 && c <= 122;
const isUpper = (c: number): boolean => c >= 65 && c <= 90;

/**
 * Where the word ending before `end` in the ASCII `key` starts, as the split cuts it: at a
 * separator, or at a capital after a lower case letter or digit (`botToken`), or at a capital
 * after a capital and before a lower case letter (`APIKey`).
 */
function wordStart(key: string, end: number): number {
  let i = end - 1;
  while (i > 0) {
    const c = key.charCodeAt(i);
    const before = key.charCodeAt(i - 1);
    const beforeIsUpper = isUpper(before);
    if (!beforeIsUpper && !isLower(before) && !isDigit(before)) break;
    if (isUpper(c) && (!beforeIsUpper || (i + 1 < end && isLower(key.charCodeAt(i + 1))))) break;
    i--;
  }
  return i;
}

/** Where the word ending at or before `end` in the ASCII `key` ends, past separators (0: none). */
function wordEnd(key: string, end: number): number {
  let i = end;
  while (i > 0) {
    const c = key.charCodeAt(i - 1);
    if (isUpper(c) || isLower(c) || isDigit(c)) break;
    i--;
  }
  return i;
}

/** {@link CREDENTIAL_WORDS} and {@link CREDENTIAL_PAIRS} as lists, for the ASCII scan. */
const WORD_LIST: readonly string[] = [...CREDENTIAL_WORDS];
const PAIR_LIST: readonly string[] = [...CREDENTIAL_PAIRS];

/**
 * Whether `key`'s characters from `a` to `aEnd` then from `b` to `bEnd` are `word` in any case:
 * a letter or digit ORed with 0x20 is its lower case, and no slice or lowercased copy is made
 * for each of thousands of decoy keys.
 */
function spells(key: string, a: number, aEnd: number, b: number, bEnd: number, word: string): boolean {
  const first = aEnd - a;
  if (first + bEnd - b !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    const at = i < first ? a + i : b + i - first;
    if ((key.charCodeAt(at) | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** {@link isCredentialKey} of an ASCII key, by a scan of its last two words: the split's answer. */
function asciiCredential(key: string): boolean {
  const lastEnd = wordEnd(key, key.length);
  if (lastEnd === 0) return false;
  const lastStart = wordStart(key, lastEnd);
  if (WORD_LIST.some((w) => spells(key, lastStart, lastEnd, lastEnd, lastEnd, w))) return true;
  const prevEnd = wordEnd(key, lastStart);
  if (prevEnd === 0) return false;
  const prevStart = wordStart(key, prevEnd);
  return PAIR_LIST.some((w) => spells(key, prevStart, prevEnd, lastStart, lastEnd, w));
}

/**
 * Two or more characters the split reads as one separator: none of them lowercases to an ASCII
 * letter or digit (the Kelvin sign lowercases to `k`, `İ` to `i` and a dot).
 */
const SEPARATOR_RUN = /[^A-Za-z0-9\u212A\u0130]{2,}/g;

/** Whether `key` names a credential (see the module comment for the rule). */
export function isCredentialKey(key: string): boolean {
  // a hostile body can hold long keys: the last two words are all the rule reads, so the split
  // sees only the key's last 64 characters and stays cheap; a run of separators is one first, as
  // the split reads it, or `token` and 60 underscores were read as `oken`
  const tail = key.length > 64 ? key.replace(SEPARATOR_RUN, '_').slice(-64) : key;
  if (PLAIN_CREDENTIAL_END.test(tail)) return true;
  // any other ASCII key (every webhook's) is read by its last two words alone: the split of each
  // of thousands of `k1_api_key` or `k1_tOkEn` decoys was most of a hostile form's cost
  if (!NON_ASCII.test(tail)) return asciiCredential(tail);
  const w = words(tail);
  const last = w[w.length - 1];
  if (last === undefined) return false;
  if (CREDENTIAL_WORDS.has(last)) return true;
  return w.length >= 2 && CREDENTIAL_PAIRS.has(`${w[w.length - 2]}${last}`);
}

/** Whether a value under a credential key can hold a secret: booleans and `null` cannot. */
export function canHoldSecret(value: unknown): boolean {
  return value !== null && typeof value !== 'boolean';
}

/**
 * Whether a header named `name` can carry a credential: dropped from stored forwards, and its value
 * taken out of a plugin's words about the forward. {@link SECRET_HEADER}, or a name the rule of
 * keys reads as one: the pattern alone, a list of its own, missed `X-Access-Key`, `X-Private-Key`,
 * `Passphrase` and `X-Client-Credentials`, whose values a body's key of that name gave up.
 */
export function isCredentialHeader(name: string): boolean {
  return SECRET_HEADER.test(name) || isCredentialKey(name);
}
