/**
 * What a dead letter keeps of a frame: everything needed to replay it, minus secrets. The
 * connector strips credentials and the plugins remove interaction tokens, but a frame that a
 * plugin rejected may still carry one — a body the plugin could not even parse (cut off, or
 * not JSON) most of all — so the inbox removes them again before storing (spec/plugins.md: the
 * interaction token must never reach the inbox). A path loses its credential query values and its
 * key-like segments; those are stored as `[redacted]` and replayed so (decisions.md).
 */

import { holdsBlankedKey, withoutPathKeys } from '../../core/path-keys.js';
import { formDecode } from '../../core/plugin-host/credential-pairs.js';
import { canHoldSecret, isCredentialHeader, isCredentialKey } from '../../core/protocol/credential-key.js';
import { credentialFields, formEncoded, MAX_CREDENTIAL_FIELDS } from './redact-form.js';
import { hasSecretPair, redactSecretPairs } from './redact-text.js';

/**
 * Remove credential-bearing keys (credential-key.ts: Discord's interaction `token` first of all,
 * `access_token`, `clientSecret`, …) from a parsed JSON value, recursively; a boolean or `null`
 * under such a key holds no secret and stays.
 */
export function stripSecretKeys(value: unknown, depth = 0): unknown {
  // a hostile body could nest deeply; below this depth nothing is kept at all
  if (depth > 32) return null;
  if (Array.isArray(value)) return value.map((v) => stripSecretKeys(v, depth + 1));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!isCredentialKey(k) || !canHoldSecret(v)) out[k] = stripSecretKeys(v, depth + 1);
  }
  return out;
}

/** A body fit for storage: base64 with every credential removed, or none (`''`) and why. */
export type RedactedBody = { readonly bodyB64: string } | { readonly bodyB64: ''; readonly omitted: string };

/** Why a body that could not be searched for credentials was not stored. */
export const BODY_OMITTED = {
  notText: 'the body is not text (it holds NUL bytes), so it cannot be searched for credentials',
  unhandledPair:
    'the body is no JSON object and shows a credential key whose value could not be removed (e.g. behind escaped quotes)',
  tooManyFields: `the body has more than ${MAX_CREDENTIAL_FIELDS} form fields showing a credential word, more than are searched`,
  redactionFailed: 'the redaction of the frame failed (CORE_ERR_INBOX_REDACTION_FAILED), so no body is kept',
} as const;

/** What a form field holding a credential becomes. */
const REDACTED_FIELD = '[redacted]';

/** `text` as JSON without credential keys, or undefined when it is no JSON object or array. */
function strippedJson(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? JSON.stringify(stripSecretKeys(parsed)) : undefined;
  } catch {
    return undefined;
  }
}

/** `text` (JSON-like, maybe cut off) with each credential pair's value replaced, or undefined when one stays. */
function strippedPairs(text: string): { text: string; redacted: number } | undefined {
  const result = redactSecretPairs(text, isCredentialKey);
  return hasSecretPair(result.text, isCredentialKey) ? undefined : result;
}

/**
 * `text` read as form fields (any text: redact-form.ts) without credentials: a field the reader
 * takes for a credential (credential-key.ts's rule on its name decoded as the plugin decodes it)
 * gets {@link REDACTED_FIELD}, a field whose value shows a credential pair (Slack's `payload=`
 * JSON) loses it as a JSON body would. Every other byte stays; the text itself when nothing had
 * to go. Why not, when the fields could not all be searched or a pair stays.
 */
function strippedFields(text: string): string | { omitted: string } {
  const fields = credentialFields(text);
  if (fields === undefined) return { omitted: BODY_OMITTED.tooManyFields };
  let out = '';
  let copied = 0;
  for (const [start, end] of fields) {
    const eq = text.indexOf('=', start);
    // a name alone (`flag`) has no value to hide
    if (eq < 0 || eq >= end) continue;
    const value = text.slice(eq + 1, end);
    let kept: string | undefined;
    if (isCredentialKey(formDecode(text.slice(start, eq)))) kept = value === '' ? undefined : REDACTED_FIELD;
    else {
      const decoded = formDecode(value);
      if (hasSecretPair(decoded, isCredentialKey)) {
        kept = strippedJson(decoded) ?? strippedPairs(decoded)?.text;
        if (kept === undefined) return { omitted: BODY_OMITTED.unhandledPair };
      }
    }
    if (kept === undefined) continue;
    out += text.slice(copied, eq + 1) + formEncoded(kept);
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * A base64 body without credentials, as close to the original as that allows:
 * - JSON (after one leading UTF-8 BOM, which the plugins' `TextDecoder` skips too) that is an
 *   object or array ⇒ re-serialised without credential keys, at any depth;
 * - anything else ⇒ read as form fields, as `URLSearchParams` reads any text: each credential
 *   field's value replaced, credential keys removed from JSON inside a field
 *   ({@link strippedFields}); and the value of each `"<credential key>": value` pair of the
 *   connector's bytes replaced textually (a body cut off mid-value included; see redact-text.ts);
 *   every other byte kept. A body showing both a credential field and a credential pair is not
 *   kept: either rewrite can hide what the other would find;
 * - a body that is not text, or still shows a credential the scans could not handle, or has too
 *   many fields showing a credential word to search ⇒ no body, and why.
 */
export function redactBody(bodyB64: string): RedactedBody {
  const bytes = Buffer.from(bodyB64, 'base64');
  let text = bytes.toString('utf8');
  const bom = text.charCodeAt(0) === 0xfeff;
  if (bom) text = text.slice(1);
  const json = strippedJson(text);
  if (json !== undefined) return { bodyB64: Buffer.from(json, 'utf8').toString('base64') };
  // UTF-16 or binary: a key spelled with NULs between its letters would not be found
  if (bytes.includes(0)) return { bodyB64: '', omitted: BODY_OMITTED.notText };
  // the pairs are read on the connector's bytes, one character per byte, so every byte the scan
  // does not replace is kept as it was
  const original = strippedPairs(bytes.toString('latin1'));
  if (original === undefined) return { bodyB64: '', omitted: BODY_OMITTED.unhandledPair };
  const form = strippedFields(text);
  if (typeof form !== 'string') return { bodyB64: '', ...form };
  if (form === text) {
    if (original.redacted === 0) return { bodyB64 };
    return { bodyB64: Buffer.from(original.text, 'latin1').toString('base64') };
  }
  // both a credential field and a credential pair: each rewrite can hide what the other reads (a
  // field's value dropped a quote that opened a pair's key, `token=a"b&c_token":"<v>"`; a pair's
  // value dropped a field name's last word), so neither order is safe: fail closed
  if (original.redacted > 0) return { bodyB64: '', omitted: BODY_OMITTED.unhandledPair };
  // the rewrite holds no quote (its values form-encoded), but the quotes it dropped may pair others
  const pairs = strippedPairs(Buffer.from(`${bom ? '\ufeff' : ''}${form}`, 'utf8').toString('latin1'));
  if (pairs === undefined) return { bodyB64: '', omitted: BODY_OMITTED.unhandledPair };
  return { bodyB64: Buffer.from(pairs.text, 'latin1').toString('base64') };
}

/** {@link redactBody}'s base64 alone (`''` when the body had to be left out). */
export function redactBodyB64(bodyB64: string): string {
  return redactBody(bodyB64).bodyB64;
}

/**
 * A forward's path with each key-like segment replaced by `[redacted]` (`/webhooks/<id>/<token>`,
 * `/hooks/<secret>`: path-keys.ts, the rule a plugin's words are redacted by) and the value of each
 * credential-named query parameter (`?token=`, `?api_key=`: a webhook URL that holds its own key)
 * replaced, read as a body's form fields are ({@link strippedFields}: in place, in one bounded
 * pass; a re-encoding of every field cost 2 s of the main thread on a 4 MiB query); byte for byte
 * when there is neither, without its query when it cannot be searched.
 */
export function redactPath(path: string): string {
  const at = path.indexOf('?');
  if (at < 0) return withoutPathKeys(path);
  const query = strippedFields(path.slice(at + 1));
  return withoutPathKeys(typeof query === 'string' ? `${path.slice(0, at + 1)}${query}` : path.slice(0, at));
}

/**
 * Said beside a stored path that holds a `[redacted]` part ({@link pathMark}): the key is not
 * kept anywhere, so a replay runs the plugin on the path as stored.
 */
const PATH_REDACTED =
  'a part of the path that looked like a key (a segment, a part of one after : @ ; and the like, or a query name or value: 20 characters or more mixing upper case, lower case and digits) is stored as [redacted]; a replay runs the plugin with the path as stored';

/**
 * `{pathRedacted}` when a stored path holds a `[redacted]` segment or part (`/<bot id>:[redacted]`),
 * a replayed letter's too.
 */
function pathMark(path: string): { pathRedacted?: string } {
  return holdsBlankedKey(path) ? { pathRedacted: PATH_REDACTED } : {};
}

/**
 * What a dead letter keeps of a frame whose {@link redactFrame} threw: its type, bufferId and a
 * forward's platform, bot, method and path without its query or key-like segments; no body, no
 * header, nothing else (fail closed: whatever the redaction could not finish may hold a secret).
 * Reads strings alone with a linear scan (path-keys.ts), so it cannot throw.
 */
export function redactFrameWhole(frame: Record<string, unknown>): Record<string, unknown> {
  const text = (from: Record<string, unknown>, key: string) =>
    typeof from[key] === 'string' ? (from[key] as string) : '';
  const out: Record<string, unknown> = { type: text(frame, 'type') };
  if (typeof frame.bufferId === 'string') out.bufferId = frame.bufferId;
  const fwd = frame.forward;
  if (fwd && typeof fwd === 'object' && !Array.isArray(fwd)) {
    const f = fwd as Record<string, unknown>;
    const path = withoutPathKeys(text(f, 'path').split('?')[0] as string);
    out.forward = {
      platform: text(f, 'platform'),
      botId: text(f, 'botId'),
      method: text(f, 'method'),
      path,
      ...pathMark(path),
      headers: [],
      bodyB64: '',
      bodyOmitted: BODY_OMITTED.redactionFailed,
    };
  }
  return out;
}

/** A copy of a connector frame fit for the dead-letter table. */
export function redactFrame(frame: Record<string, unknown>): Record<string, unknown> {
  const out = stripSecretKeys(frame) as Record<string, unknown>;
  const forward = out.forward;
  if (forward && typeof forward === 'object' && !Array.isArray(forward)) {
    // the marks are the sidecar's to set: one the connector sent would say a body or key was
    // taken out where none was (and a letter with `bodyOmitted` is refused replay)
    const { bodyOmitted: _body, pathRedacted: _path, ...fwd } = forward as Record<string, unknown>;
    const headers = Array.isArray(fwd.headers) ? fwd.headers : [];
    const body = typeof fwd.bodyB64 === 'string' ? redactBody(fwd.bodyB64) : undefined;
    const path = typeof fwd.path === 'string' ? redactPath(fwd.path) : undefined;
    out.forward = {
      ...fwd,
      // said where the path is, as the body's omission is: a replay ignores the key
      ...(path === undefined ? {} : { path, ...pathMark(path) }),
      headers: headers.filter((h) => !(Array.isArray(h) && isCredentialHeader(String(h[0])))),
      bodyB64: body ? body.bodyB64 : fwd.bodyB64,
      // said where the body would be: `dead-letters show` prints it (a replay ignores the key)
      ...(body && 'omitted' in body ? { bodyOmitted: body.omitted } : {}),
    };
  }
  return out;
}
