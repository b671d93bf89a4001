/**
 * Find keys that look like credentials anywhere in a `follow_up` action. The gateway holds zero
 * capability material: the connector keeps interaction tokens, and an agent that tries to pass
 * one (or any other secret) is refused before anything is sent. Pure.
 *
 * A key is a credential by the rule the dead letters use too (core/protocol/credential-key.ts):
 * `token`, `secret`, `authorization`, `password`, any key whose last word is one of those or whose
 * last two are `api key`, `private key`, …: `interaction_token`, `clientSecret`, `x-api-key`; not
 * `tokens` or `token_count`. Wider than the spec's list on purpose: a false positive costs the
 * agent a clear 400, a false negative leaks a credential.
 */
import { isCredentialKey } from '../../core/index.js';

/** Nesting bound: deeper structures are refused as if they held a credential (fail closed). */
const MAX_DEPTH = 16;

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
