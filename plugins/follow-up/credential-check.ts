/**
 * Find keys that look like credentials anywhere in a `follow_up` action. The gateway holds zero
 * capability material: the connector keeps interaction tokens, and an agent that tries to pass
 * one (or any other secret) is refused before anything is sent. Pure.
 */

/**
 * Key shapes treated as credentials, case-insensitive: `token`, `secret`, `authorization`, and
 * anything ending in `_token` / `-token` / `_secret` / `-secret` or a camelCase `…Token` /
 * `…Secret`. Wider than the spec's list on purpose: a false positive costs the agent a clear 400,
 * a false negative leaks a credential.
 */
const CREDENTIAL_KEY = /^(?:token|secret|authorization)$|[_-](?:token|secret)$/i;
const CAMEL_CREDENTIAL_KEY = /[a-z0-9](?:Token|Secret)$/;

/** Nesting bound: deeper structures are refused as if they held a credential (fail closed). */
const MAX_DEPTH = 16;

/** True when `key` looks like a credential. */
export function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY.test(key) || CAMEL_CREDENTIAL_KEY.test(key);
}

/**
 * The dotted path of the first credential-like key in `value` (objects and arrays, any depth), or
 * undefined when there is none. Only keys are inspected: message text may say "token" freely.
 */
export function findCredentialPath(value: unknown, path = '', depth = 0): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) return path || '(root)';
  const entries = Array.isArray(value)
    ? value.map((item, i) => [String(i), item] as const)
    : Object.entries(value as Record<string, unknown>);
  for (const [key, child] of entries) {
    const childPath = path ? `${path}.${key}` : key;
    if (!Array.isArray(value) && isCredentialKey(key)) return childPath;
    const found = findCredentialPath(child, childPath, depth + 1);
    if (found) return found;
  }
  return undefined;
}
