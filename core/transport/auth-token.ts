/**
 * Channel authentication tokens (relay contract section 6): HMAC signing, minting of the upgrade
 * token sent on every dial, and verification against a secret rotation list (used by connectors,
 * the dev connector and tests). Pure functions; verification never throws.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Lifetime of an upgrade token, in seconds (contract: 300 s). */
export const UPGRADE_TOKEN_TTL_S = 300;

/** Why a token was refused; these are stable error codes of the catalogue. */
export type TokenRejectCode =
  | 'CORE_ERR_AUTH_TOKEN_MALFORMED'
  | 'CORE_ERR_AUTH_TOKEN_EXPIRED'
  | 'CORE_ERR_AUTH_TOKEN_BAD_SIGNATURE';

/** The outcome of {@link verifyToken}: a value, never an exception. */
export type VerifyResult =
  | { readonly ok: true; readonly payload: string; readonly exp: number }
  | { readonly ok: false; readonly code: TokenRejectCode };

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * HMAC-SHA256 of the UTF-8 `payload`, keyed by the UTF-8 bytes of `secret` (never hex-decoded),
 * as lowercase hex.
 */
export function sign(payload: string, secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(payload, 'utf8').digest('hex');
}

/**
 * The token for an absolute expiry: base64url without padding of `<payload>:<exp>:<sig>`, where
 * `sig = sign("<payload>:<exp>", secret)`. `exp` is unix seconds; `0` never expires.
 */
export function tokenFor(payload: string, secret: string, exp: number): string {
  const signed = `${payload}:${exp}`;
  return Buffer.from(`${signed}:${sign(signed, secret)}`, 'utf8').toString('base64url');
}

/**
 * Mint a token valid for `ttlS` seconds from `nowS` (unix seconds); `ttlS = 0` never expires.
 * Fractional clocks are floored so the expiry is an integer on the wire.
 */
export function mintToken(payload: string, secret: string, ttlS: number, nowS: number): string {
  const exp = ttlS === 0 ? 0 : Math.floor(nowS) + ttlS;
  return tokenFor(payload, secret, exp);
}

/**
 * The upgrade token sent as `Authorization: Bearer <token>` on every dial: payload = gateway id,
 * ttl {@link UPGRADE_TOKEN_TTL_S} unless given. `nowMs` is a millisecond clock (Clock.now()).
 */
export function upgradeToken(
  gatewayId: string,
  secret: string,
  nowMs: number,
  ttlS: number = UPGRADE_TOKEN_TTL_S,
): string {
  return mintToken(gatewayId, secret, ttlS, Math.floor(nowMs / 1000));
}

/**
 * Verify `token` at `nowS` (unix seconds) against every non-empty secret of `secrets` (a rotation
 * list, newest first). Splits from the right because the payload may itself contain `:`.
 */
export function verifyToken(token: string, secrets: readonly string[], nowS: number): VerifyResult {
  const parts = decodeParts(token);
  if (!parts) return { ok: false, code: 'CORE_ERR_AUTH_TOKEN_MALFORMED' };
  const { payload, expText, sig } = parts;
  if (!/^\d+$/.test(expText)) return { ok: false, code: 'CORE_ERR_AUTH_TOKEN_MALFORMED' };
  const exp = Number(expText);
  // Expiry is checked before the signature so an aged token reports "expired" (close reason).
  if (exp !== 0 && nowS > exp) return { ok: false, code: 'CORE_ERR_AUTH_TOKEN_EXPIRED' };
  if (!HEX_SHA256.test(sig)) return { ok: false, code: 'CORE_ERR_AUTH_TOKEN_BAD_SIGNATURE' };
  const given = Buffer.from(sig, 'hex');
  const signed = `${payload}:${expText}`;
  for (const secret of secrets) {
    if (secret === '') continue;
    const expected = Buffer.from(sign(signed, secret), 'hex');
    if (expected.length === given.length && timingSafeEqual(expected, given)) {
      return { ok: true, payload, exp };
    }
  }
  return { ok: false, code: 'CORE_ERR_AUTH_TOKEN_BAD_SIGNATURE' };
}

/** Re-pad and decode, then split `<payload>:<exp>:<sig>` from the right; undefined ⇒ malformed. */
function decodeParts(token: string): { payload: string; expText: string; sig: string } | undefined {
  if (typeof token !== 'string') return undefined;
  // Tokens are minted unpadded; a padded one is tolerated by stripping then re-padding.
  const bare = token.replace(/={1,2}$/, '');
  if (bare === '' || !BASE64URL.test(bare) || bare.length % 4 === 1) return undefined;
  const padded = bare + '='.repeat((4 - (bare.length % 4)) % 4);
  const text = Buffer.from(padded, 'base64url').toString('utf8');
  const sigAt = text.lastIndexOf(':');
  if (sigAt <= 0) return undefined;
  const expAt = text.lastIndexOf(':', sigAt - 1);
  if (expAt < 0) return undefined;
  return { payload: text.slice(0, expAt), expText: text.slice(expAt + 1, sigAt), sig: text.slice(sigAt + 1) };
}
