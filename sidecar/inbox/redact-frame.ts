/**
 * What a dead letter keeps of a frame: everything needed to replay it, minus secrets. The
 * connector strips credentials and the plugins remove interaction tokens, but a frame that a
 * plugin rejected may still carry one, so the inbox removes them again before storing.
 */

/** Header names that can carry credentials; dropped from stored forwards. */
const SECRET_HEADER = /authorization|cookie|token|secret|signature|api[-_]?key|password/i;
/** JSON body keys that hold credentials (Discord's interaction `token` first of all). */
const SECRET_KEYS: ReadonlySet<string> = new Set(['token', 'secret', 'password', 'api_key', 'apiKey']);

/** Remove credential-bearing keys from a parsed JSON value, recursively. */
export function stripSecretKeys(value: unknown, depth = 0): unknown {
  // a hostile body could nest deeply; below this depth nothing is kept at all
  if (depth > 32) return null;
  if (Array.isArray(value)) return value.map((v) => stripSecretKeys(v, depth + 1));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!SECRET_KEYS.has(k)) out[k] = stripSecretKeys(v, depth + 1);
  }
  return out;
}

/** A base64 body with credential keys removed when it is a JSON object; other bodies unchanged. */
export function redactBodyB64(bodyB64: string): string {
  const text = Buffer.from(bodyB64, 'base64').toString('utf8');
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return bodyB64;
  try {
    const parsed: unknown = JSON.parse(text);
    return Buffer.from(JSON.stringify(stripSecretKeys(parsed)), 'utf8').toString('base64');
  } catch {
    return bodyB64;
  }
}

/** A copy of a connector frame fit for the dead-letter table. */
export function redactFrame(frame: Record<string, unknown>): Record<string, unknown> {
  const out = stripSecretKeys(frame) as Record<string, unknown>;
  const forward = out.forward;
  if (forward && typeof forward === 'object' && !Array.isArray(forward)) {
    const fwd = forward as Record<string, unknown>;
    const headers = Array.isArray(fwd.headers) ? fwd.headers : [];
    out.forward = {
      ...fwd,
      headers: headers.filter((h) => !(Array.isArray(h) && SECRET_HEADER.test(String(h[0])))),
      bodyB64: typeof fwd.bodyB64 === 'string' ? redactBodyB64(fwd.bodyB64) : fwd.bodyB64,
    };
  }
  return out;
}
