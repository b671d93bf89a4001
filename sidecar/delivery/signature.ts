/**
 * Push request signing (agent-api.md): `X-Relay-Signature` is the hex HMAC-SHA256 of
 * `<timestamp>.<raw body>` keyed by the API token, so the agent can verify the sender and, with
 * the timestamp, refuse stale replays.
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/** A signing key prepared once (saves re-deriving it from the token on every request). */
export function signingKey(token: string): KeyObject {
  return createSecretKey(Buffer.from(token, 'utf8'));
}

/** Hex HMAC-SHA256 of `<timestamp>.<body>` keyed by `token`. */
export function signDelivery(token: string | KeyObject, timestamp: string, body: string): string {
  return createHmac('sha256', token).update(timestamp).update('.').update(body).digest('hex');
}

/** Constant-time check of a signature (what an agent does; used by the test agent). */
export function verifyDelivery(token: string, timestamp: string, body: string, signature: string): boolean {
  const want = Buffer.from(signDelivery(token, timestamp, body), 'hex');
  const got = Buffer.from(signature, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
