/**
 * The credentials a chain task hands its plugins, and a plugin's own words with them taken out.
 *
 * A forward reaches its converter whole: a Discord interaction `token` the connector left in the
 * body, an `Authorization` or signature header, a `?token=` in its path; a plugin has its manifest
 * options. What a plugin says — a thrown message, a converter's or a drop's reason, a
 * rejection's message, a log line — reached the log, the dead letter (which `dead-letters list`
 * prints and `GET /v1/dead-letters` hands the agent), the agent's 4xx body and a metric label as
 * the plugin wrote it: `throw new Error('interaction ' + token + …)`, or a naive `JSON.parse` of
 * a cut-off body, whose V8 message quotes the text around the error. The host knows what it
 * handed over, so it takes exactly that out, on the main thread, before anything reads the words.
 * Pure.
 */
import { withoutUrls } from '../errors.js';
import { pathKeys } from '../path-keys.js';
import type { ChainTask, HookLogEntry } from '../pool/task-protocol.js';
import { canHoldSecret, isCredentialHeader, isCredentialKey } from '../protocol/credential-key.js';
import { withoutJsonSnippet } from '../protocol/decode.js';
import { SecretMatcher } from '../secret-matcher.js';
import {
  CREDENTIAL_FIELD,
  CREDENTIAL_PAIR,
  formDecode,
  jsonString,
  QUOTED_PAIR,
} from './credential-pairs.js';

/** Shorter values are not taken out: `true`, an id, a word would turn ordinary text into noise. */
const MIN_SECRET_CHARS = 8;
/** Nesting bound of the search, as the dead letters' (redact-frame.ts). */
const MAX_DEPTH = 32;
/**
 * Bytes of a forward's body searched, from its start: the search runs on the main thread for every
 * reply with words (a log call too), and a body may be 16 MiB (`relay.maxPayloadBytes`). Webhook
 * bodies are a few KiB; a larger one is searched by its quoted pairs up to here.
 */
const MAX_BODY_SEARCH_BYTES = 256 * 1024;
/**
 * Keys, headers, form fields and pairs looked at, at most, in one search: a body of 64 Ki keys took
 * 0.2 s of the main thread; a webhook's body has a few dozen. Every credential value among them is
 * kept — no count of values: 32 decoys first crowded a real token out — and the texts are searched
 * for all of them in one pass (secret-matcher.ts), so this and {@link MAX_BODY_SEARCH_BYTES}
 * bound the work.
 */
const MAX_KEYS_SEARCHED = 4_096;

/** One search: the values found, and what is left of its budget of keys. */
class Finder {
  private readonly found = new Set<string>();
  private keysLeft = MAX_KEYS_SEARCHED;
  /** Whether the walk met an object deeper than {@link MAX_DEPTH}, whose keys it left unread. */
  private tooDeep = false;

  /** Take `value` when it is a string long enough; `Bot <token>` gives the credential alone too. */
  add(value: unknown): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_CHARS) return;
    this.found.add(value);
    const word = value.slice(value.lastIndexOf(' ') + 1);
    if (word.length >= MIN_SECRET_CHARS) this.found.add(word);
  }

  /** A JSON string's text: as it came, and as a reader of the JSON takes it (`\/`, `\u…` escapes). */
  private quoted(raw: string): void {
    this.add(raw);
    this.add(jsonString(raw));
  }

  /** A header, counted against the budget as a key (a forward may hold thousands). */
  header(name: string, value: unknown): void {
    if (this.keysLeft-- > 0 && isSecretHeader(name)) this.add(value);
  }

  /** Whether `name` names a credential; false once the budget is spent. */
  credential(name: string): boolean {
    return this.keysLeft-- > 0 && isCredentialKey(name);
  }

  /** Strings under credential keys anywhere in a JSON value. */
  value(value: unknown, depth = 0): void {
    if (!value || typeof value !== 'object' || this.keysLeft <= 0) return;
    if (depth > MAX_DEPTH) {
      this.tooDeep = true;
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      if (!Array.isArray(value) && this.credential(key) && canHoldSecret(child)) this.add(child);
      this.value(child, depth + 1);
    }
  }

  /**
   * The fields of a query or form (split here: URLSearchParams would parse every field first):
   * each value as a reader takes it and as it came, since a plugin logging the path (twilio's
   * 'webhook dropped') writes the key percent-encoded (a base64 key's `+`, `/`, `=`). Where the
   * fields read end: those past it were past the budget.
   */
  query(text: string): number {
    let end = 0;
    for (const field of text.split('&', Math.max(0, this.keysLeft))) {
      end += field.length + 1;
      const eq = field.indexOf('=');
      if (!this.credential(formDecode(eq < 0 ? field : field.slice(0, eq))) || eq < 0) continue;
      const raw = field.slice(eq + 1);
      this.add(formDecode(raw));
      this.add(raw);
    }
    return end;
  }

  /**
   * The key-like segments of a forward's path (path-keys.ts), as they came and decoded, each one
   * key of the budget: a plugin quoting one without its slash (`'unknown hook ' + hook`) put it
   * in its reason, and so in the dead letter's message, where the rule, which reads paths, never
   * saw it. Those ending within {@link MAX_BODY_SEARCH_BYTES} are taken, none cut there (a cut one
   * would be taken out as its start alone); a cut at the last `/` before the bound dropped the
   * key of `/hooks/<key>?payload=<a long percent-encoded payload>`, which holds no other `/`.
   */
  path(path: string): void {
    for (const key of pathKeys(path, Math.max(0, this.keysLeft), MAX_BODY_SEARCH_BYTES)) {
      this.keysLeft--;
      this.add(key);
      this.add(uriDecoded(key));
    }
  }

  /**
   * Credential values of a body: JSON keys, form fields, or quoted pairs of a broken body; and,
   * once the budget of keys is spent, those under a key ending in a credential word
   * ({@link spentBudget}), so that keys enough before it cannot hide a token. So too when the
   * walk stopped at its depth: a token nested 33 levels deep was found by no reading.
   */
  body(text: string): void {
    const fieldsRead = this.parts(text);
    if (this.keysLeft <= 0 || this.tooDeep) this.spentBudget(text, fieldsRead);
  }

  /** The walk within the budget; where the form fields it read end (0: none read). */
  private parts(text: string): number {
    // only an object or an array holds keys; a form (Twilio's every callback) is not parsed: the
    // thrown SyntaxError alone cost ~15 µs of the main thread per reply with words
    if (/^\s*[[{]/.test(text)) {
      try {
        this.value(JSON.parse(text));
        return 0;
      } catch {
        // a JSON body cut off: its quoted pairs below
      }
    }
    const fieldsRead = this.query(text);
    // spent by the fields: the pass below would only scan for a pair it cannot take
    if (this.keysLeft <= 0) return fieldsRead;
    for (const [, key = '', value = ''] of text.matchAll(QUOTED_PAIR)) {
      if (this.keysLeft <= 0) break;
      // a key as a reader takes it (`to\u006ben`), as JSON.parse gives the walk of a whole body
      if (this.credential(jsonString(key))) this.quoted(value);
    }
    return fieldsRead;
  }

  /**
   * The values under credential keys anywhere in `text`, found by one pass of two patterns that
   * only such keys can match (a key is read by {@link isCredentialKey} only when its last word
   * may be one): the budget of keys (and its depth) bounded the walk of every key, and a body of
   * 5 000 harmless keys first left its token unfound. A key is matched escaped too (`"to\u006ben"`, `to%6Ben`:
   * credential-pairs.ts), as the walk within the budget decodes it. The text is bounded
   * ({@link MAX_BODY_SEARCH_BYTES}).
   */
  private spentBudget(text: string, fieldsRead: number): void {
    for (const [, key = '', value = ''] of text.matchAll(CREDENTIAL_PAIR)) {
      if (isCredentialKey(jsonString(key))) this.quoted(value);
    }
    // the fields the walk read are not read again (half of a form of 8 000 decoys): the walk's
    // rule (a whole key decoded) takes all this pattern takes
    for (const [, key = '', value = ''] of text.slice(fieldsRead).matchAll(CREDENTIAL_FIELD)) {
      if (!isCredentialKey(formDecode(key))) continue;
      this.add(formDecode(value));
      this.add(value);
    }
  }

  /** The values found, longest first (a value containing another is replaced whole). */
  values(): string[] {
    return [...this.found].sort((a, b) => b.length - a.length);
  }
}

/** `text` percent-decoded as a path is (no `+` for a space), or as it is when it does not decode. */
function uriDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Whether a header's value is a credential: {@link isCredentialHeader}, less a signature's timestamp
 * (Discord's `X-Signature-Timestamp`): a Unix time is no secret, and taken for one it blanked
 * that number out of every word of the plugin (a 'stale request 1700000000' line).
 */
function isSecretHeader(name: string): boolean {
  return isCredentialHeader(name) && !/timestamp$/i.test(name);
}

/**
 * The credential values `task` hands its plugins, longest first; `options` are the chain's
 * plugins' manifest options (a plugin may take a credential there, against the advice).
 */
export function taskSecrets(task: ChainTask, options: readonly unknown[] = []): string[] {
  const find = new Finder();
  for (const value of options) find.value(value);
  if (task.k === 'convert') {
    const { headers, path, bodyB64 } = task.forward;
    for (const [name, value] of headers) find.header(String(name), value);
    // a webhook URL holding its own key: `?token=…` in the forward's path, or a segment of it
    if (path.includes('?')) find.query(path.slice(path.indexOf('?') + 1));
    find.path(path);
    // base64: 4 characters for 3 bytes, so the cut falls between whole groups
    const b64 = bodyB64.slice(0, Math.floor(MAX_BODY_SEARCH_BYTES / 3) * 4);
    find.body(Buffer.from(b64, 'base64').toString('utf8'));
  } else {
    find.value(task.k === 'inbound' ? task.input.event : task.input.action);
  }
  return find.values();
}

/** The strings under credential keys anywhere in `value` (a plugin's manifest options), longest first. */
export function credentialValues(value: unknown): string[] {
  const find = new Finder();
  find.value(value);
  return find.values();
}

/** The task's credentials, indexed once for every text of its reply; or a list of them. */
export type Secrets = SecretMatcher | readonly string[];

function matcher(secrets: Secrets): SecretMatcher {
  return secrets instanceof SecretMatcher ? secrets : new SecretMatcher(secrets);
}

/** A plugin's text without the task's credentials and without V8's quote of a body. */
export function redactPluginText(text: string, secrets: Secrets): string {
  return withoutJsonSnippet(matcher(secrets).redact(text));
}

/** A hook's failure message: {@link redactPluginText}, and URLs (a webhook URL holds its token). */
export function redactFailure(text: string, secrets: Secrets): string {
  return withoutUrls(redactPluginText(text, secrets));
}

/** A hook's log call with its message and string fields (any depth) redacted. */
export function redactLogEntry(entry: HookLogEntry, list: Secrets): HookLogEntry {
  const secrets = matcher(list);
  const [position, level, msg, fields] = entry;
  const redacted = redactPluginText(msg, secrets);
  return fields === undefined
    ? [position, level, redacted]
    : [position, level, redacted, redactFields(fields, secrets, 0) as Record<string, unknown>];
}

function redactFields(value: unknown, secrets: SecretMatcher, depth: number): unknown {
  if (typeof value === 'string') return redactPluginText(value, secrets);
  if (!value || typeof value !== 'object') return value;
  // deeper than the search goes: not logged rather than logged unsearched
  if (depth > MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => redactFields(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  // a key is the plugin's words too (`{ [token]: 1 }`)
  for (const [k, v] of Object.entries(value))
    out[redactPluginText(k, secrets)] = redactFields(v, secrets, depth + 1);
  return out;
}
