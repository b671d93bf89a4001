/**
 * Bearer-token check of the agent API, in constant time.
 *
 * Both sides are hashed before `timingSafeEqual`, so neither the content nor the length of the
 * token leaks through response timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Realm announced to browsers for the status page (HTTP Basic, password = the API token). */
export const BASIC_REALM = 'relay-sidecar';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The expected token's digest, computed once per token (one token per process). */
let expectedDigest: { readonly token: string; readonly digest: Buffer } | undefined;

/** Constant-time equality of a presented token and the expected one. */
export function tokenEquals(presented: string, expected: string): boolean {
  if (expectedDigest?.token !== expected) expectedDigest = { token: expected, digest: digest(expected) };
  return timingSafeEqual(digest(presented), expectedDigest.digest) && expected.length > 0;
}

/** The token of an `Authorization: Bearer <token>` header, else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/**
 * The password of an `Authorization: Basic base64(user:password)` header, else undefined.
 * Browsers prompt for it, which keeps the token out of URLs (history, referrers, proxy logs).
 */
export function basicPassword(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * True when `header` carries the expected token: as a bearer token, or — when `allowBasic` (the
 * browser status page only) — as the password of HTTP Basic credentials (any user name).
 */
export function isAuthorized(header: string | undefined, expected: string, allowBasic = false): boolean {
  const presented = bearerToken(header) ?? (allowBasic ? basicPassword(header) : undefined);
  if (presented === undefined) return false;
  return tokenEquals(presented, expected);
}
