/**
 * The credentials a chain task hands its plugins, and a plugin's own words with them taken out.
 *
 * A forward reaches its converter whole: a Discord interaction `token` the connector left in the
 * body, an `Authorization` or signature header. What a plugin says about it — a thrown message, a
 * converter's or a drop's reason, a log line — reached the log, the dead letter (which
 * `dead-letters list` prints and `GET /v1/dead-letters` hands the agent) and the failure the
 * caller gets, as the plugin wrote it: `throw new Error('interaction ' + token + …)`,
 * or a naive `JSON.parse` of a cut-off body, whose V8 message quotes the text around the error.
 * The host knows what it handed over, so it takes exactly that out, on the main thread, before
 * anything reads the words. Pure.
 */
import { redactValues, withoutUrls } from '../errors.js';
import type { ChainTask, HookLogEntry } from '../pool/task-protocol.js';
import { canHoldSecret, isCredentialKey, SECRET_HEADER } from '../protocol/credential-key.js';
import { withoutJsonSnippet } from '../protocol/decode.js';

/** Shorter values are not taken out: `true`, an id, a word would turn ordinary text into noise. */
const MIN_SECRET_CHARS = 8;
/** At most this many values are looked for (a hostile body may hold thousands of keys). */
const MAX_SECRETS = 32;
/** Nesting bound of the search, as the dead letters' (redact-frame.ts). */
const MAX_DEPTH = 32;
/**
 * Bytes of a forward's body searched, from its start: the search runs on the main thread for every
 * reply with words (a log call too), and a body may be 16 MiB (`relay.maxPayloadBytes`). Webhook
 * bodies are a few KiB; a larger one is searched by its quoted pairs up to here.
 */
const MAX_BODY_SEARCH_BYTES = 256 * 1024;
/** `"<key>": "<value>"` in text that is not JSON (a body cut off by the connector). */
const QUOTED_PAIR = /"([^"\\]{1,64})"\s*:\s*"((?:[^"\\]|\\.){8,4096})"/g;

/**
 * The credential values `task` hands its plugins, longest first; `options` are the chain's
 * plugins' manifest options (a plugin may take a credential there, against the advice).
 */
export function taskSecrets(task: ChainTask, options: readonly unknown[] = []): string[] {
  const found = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value !== 'string' || value.length < MIN_SECRET_CHARS || found.size >= MAX_SECRETS) return;
    found.add(value);
    // `Bot <token>`, `Bearer <token>`, `Basic <b64>`: the credential alone may be quoted too
    const word = value.slice(value.lastIndexOf(' ') + 1);
    if (word.length >= MIN_SECRET_CHARS && found.size < MAX_SECRETS) found.add(word);
  };
  for (const value of options) valueSecrets(value, add, 0);
  if (task.k === 'convert') {
    for (const header of task.forward.headers) if (SECRET_HEADER.test(String(header[0]))) add(header[1]);
    // a webhook URL holding its own key: `?token=…` in the forward's path
    const { path } = task.forward;
    const at = path.indexOf('?');
    if (at >= 0)
      for (const [name, value] of new URLSearchParams(path.slice(at + 1)))
        if (isCredentialKey(name)) add(value);
    // base64: 4 characters for 3 bytes, so the cut falls between whole groups
    const b64 = task.forward.bodyB64.slice(0, Math.floor(MAX_BODY_SEARCH_BYTES / 3) * 4);
    bodySecrets(Buffer.from(b64, 'base64').toString('utf8'), add);
  } else {
    valueSecrets(task.k === 'inbound' ? task.input.event : task.input.action, add, 0);
  }
  return [...found].sort((a, b) => b.length - a.length);
}

/** The strings under credential keys anywhere in `value` (a plugin's manifest options), longest first. */
export function credentialValues(value: unknown): string[] {
  const found = new Set<string>();
  valueSecrets(
    value,
    (v) => {
      if (typeof v === 'string' && v.length >= MIN_SECRET_CHARS && found.size < MAX_SECRETS) found.add(v);
    },
    0,
  );
  return [...found].sort((a, b) => b.length - a.length);
}

/** Credential values of a body: JSON keys, form fields, or quoted pairs of a broken body. */
function bodySecrets(text: string, add: (value: unknown) => void): void {
  try {
    valueSecrets(JSON.parse(text), add, 0);
    return;
  } catch {
    // not JSON: a form (Twilio), or a JSON body cut off
  }
  for (const [name, value] of new URLSearchParams(text)) if (isCredentialKey(name)) add(value);
  for (const [, key = '', value] of text.matchAll(QUOTED_PAIR)) if (isCredentialKey(key)) add(value);
}

/** Strings under credential keys anywhere in a JSON value. */
function valueSecrets(value: unknown, add: (value: unknown) => void, depth: number): void {
  if (!value || typeof value !== 'object' || depth > MAX_DEPTH) return;
  for (const [key, child] of Object.entries(value)) {
    if (!Array.isArray(value) && isCredentialKey(key) && canHoldSecret(child)) add(child);
    valueSecrets(child, add, depth + 1);
  }
}

/** A plugin's text without the task's credentials and without V8's quote of a body. */
export function redactPluginText(text: string, secrets: readonly string[]): string {
  return withoutJsonSnippet(redactValues(text, secrets));
}

/** A hook's failure message: {@link redactPluginText}, and URLs (a webhook URL holds its token). */
export function redactFailure(text: string, secrets: readonly string[]): string {
  return withoutUrls(redactPluginText(text, secrets));
}

/** A hook's log call with its message and string fields (any depth) redacted. */
export function redactLogEntry(entry: HookLogEntry, secrets: readonly string[]): HookLogEntry {
  const [position, level, msg, fields] = entry;
  const redacted = redactPluginText(msg, secrets);
  return fields === undefined
    ? [position, level, redacted]
    : [position, level, redacted, redactFields(fields, secrets, 0) as Record<string, unknown>];
}

function redactFields(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return redactPluginText(value, secrets);
  if (!value || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => redactFields(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactFields(v, secrets, depth + 1);
  return out;
}
