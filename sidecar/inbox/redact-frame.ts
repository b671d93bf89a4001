/**
 * What a dead letter keeps of a frame: everything needed to replay it, minus secrets. The
 * connector strips credentials and the plugins remove interaction tokens, but a frame that a
 * plugin rejected may still carry one — a body the plugin could not even parse (cut off, or
 * not JSON) most of all — so the inbox removes them again before storing (spec/plugins.md: the
 * interaction token must never reach the inbox).
 */
import { canHoldSecret, isCredentialHeader, isCredentialKey } from '../../core/protocol/credential-key.js';
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
} as const;

/** What a form field holding a credential becomes. */
const REDACTED_FIELD = '[redacted]';

/** `name=value&…`, percent-encoded, no whitespace: a form-encoded body (Twilio, Slack). */
const FORM_BODY = /^[^\s=&]+=[^\s&]*(?:&[^\s=&]+=[^\s&]*)*&?$/;

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
 * A form-encoded body without credentials: a field named like a credential gets
 * {@link REDACTED_FIELD}, a field whose value shows a credential pair (Slack's `payload=` JSON)
 * loses it as a JSON body would. `unchanged` when nothing had to go, undefined when a pair stays.
 */
function strippedForm(text: string): string | 'unchanged' | undefined {
  const out = new URLSearchParams();
  let changed = false;
  for (const [name, value] of new URLSearchParams(text)) {
    let kept = value;
    if (isCredentialKey(name)) kept = REDACTED_FIELD;
    else if (hasSecretPair(value, isCredentialKey)) {
      const stripped = strippedJson(value) ?? strippedPairs(value)?.text;
      if (stripped === undefined) return undefined;
      kept = stripped;
    }
    changed ||= kept !== value;
    out.append(name, kept);
  }
  return changed ? out.toString() : 'unchanged';
}

/**
 * A base64 body without credentials, as close to the original as that allows:
 * - JSON (after one leading UTF-8 BOM, which the plugins' `TextDecoder` skips too) that is an
 *   object or array ⇒ re-serialised without credential keys, at any depth;
 * - a form-encoded body (`a=1&b=2`) ⇒ the original bytes when no field holds a credential, else
 *   re-encoded with each credential field's value replaced, and credential keys removed from JSON
 *   inside a field;
 * - anything else ⇒ the original bytes, except the value of each `"<credential key>": value`
 *   pair, replaced textually (a body cut off mid-value included; see redact-text.ts);
 * - a body that is not text, or still shows a credential pair the scans could not handle ⇒
 *   no body, and why.
 */
export function redactBody(bodyB64: string): RedactedBody {
  const bytes = Buffer.from(bodyB64, 'base64');
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const json = strippedJson(text);
  if (json !== undefined) return { bodyB64: Buffer.from(json, 'utf8').toString('base64') };
  // UTF-16 or binary: a key spelled with NULs between its letters would not be found
  if (bytes.includes(0)) return { bodyB64: '', omitted: BODY_OMITTED.notText };
  if (FORM_BODY.test(text)) {
    const form = strippedForm(text);
    if (form === undefined) return { bodyB64: '', omitted: BODY_OMITTED.unhandledPair };
    if (form !== 'unchanged') return { bodyB64: Buffer.from(form, 'utf8').toString('base64') };
  }
  // one character per byte, so every byte the scan does not replace is kept as it was
  const pairs = strippedPairs(bytes.toString('latin1'));
  if (pairs === undefined) return { bodyB64: '', omitted: BODY_OMITTED.unhandledPair };
  return { bodyB64: pairs.redacted === 0 ? bodyB64 : Buffer.from(pairs.text, 'latin1').toString('base64') };
}

/** {@link redactBody}'s base64 alone (`''` when the body had to be left out). */
export function redactBodyB64(bodyB64: string): string {
  return redactBody(bodyB64).bodyB64;
}

/**
 * A forward's path with the value of each credential-named query parameter (`?token=`,
 * `?api_key=`: a webhook URL that holds its own key) replaced; byte for byte when there is none.
 */
export function redactPath(path: string): string {
  const at = path.indexOf('?');
  if (at < 0) return path;
  const out = new URLSearchParams();
  let changed = false;
  for (const [name, value] of new URLSearchParams(path.slice(at + 1))) {
    const secret = isCredentialKey(name);
    changed ||= secret;
    out.append(name, secret ? REDACTED_FIELD : value);
  }
  return changed ? `${path.slice(0, at)}?${out.toString()}` : path;
}

/** A copy of a connector frame fit for the dead-letter table. */
export function redactFrame(frame: Record<string, unknown>): Record<string, unknown> {
  const out = stripSecretKeys(frame) as Record<string, unknown>;
  const forward = out.forward;
  if (forward && typeof forward === 'object' && !Array.isArray(forward)) {
    const fwd = forward as Record<string, unknown>;
    const headers = Array.isArray(fwd.headers) ? fwd.headers : [];
    const body = typeof fwd.bodyB64 === 'string' ? redactBody(fwd.bodyB64) : undefined;
    out.forward = {
      ...fwd,
      ...(typeof fwd.path === 'string' ? { path: redactPath(fwd.path) } : {}),
      headers: headers.filter((h) => !(Array.isArray(h) && isCredentialHeader(String(h[0])))),
      bodyB64: body ? body.bodyB64 : fwd.bodyB64,
      // said where the body would be: `dead-letters show` prints it (a replay ignores the key)
      ...(body && 'omitted' in body ? { bodyOmitted: body.omitted } : {}),
    };
  }
  return out;
}
