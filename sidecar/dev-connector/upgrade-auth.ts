/**
 * The connector's view of an upgrade request: is the path a relay path, and does the bearer
 * token verify against the rotation list. Pure, so the policy is tested alone.
 */
import { verifyToken } from '../../core/transport/auth-token.js';

/** Why an upgrade was refused with 4401 (the close reason the sidecar sees). */
export type UnauthorizedReason = 'missing' | 'invalid' | 'expired';

/** The auth verdict of one upgrade. */
export type UpgradeAuth =
  | { authorized: true; gatewayId?: string }
  | { authorized: false; reason: UnauthorizedReason };

/** The path of a request target, without its query; `/` when absent. */
export function pathOf(target: string | undefined): string {
  const t = target ?? '/';
  const q = t.search(/[?#]/);
  return q < 0 ? t : t.slice(0, q);
}

/** True when an upgrade on `path` is a relay dial (the path ends in `/relay`). */
export function isRelayPath(path: string): boolean {
  return path.endsWith('/relay');
}

/**
 * Check the `Authorization` header of an upgrade. With no secrets configured every dial is
 * accepted (dev mode); otherwise the header must be `Bearer <token>` verifying at `nowS`.
 */
export function authorizeUpgrade(
  header: string | undefined,
  secrets: readonly string[],
  nowS: number,
): UpgradeAuth {
  if (!secrets.some((s) => s !== '')) return { authorized: true };
  if (!header || header.trim() === '') return { authorized: false, reason: 'missing' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m?.[1]) return { authorized: false, reason: 'invalid' };
  const verdict = verifyToken(m[1], secrets, nowS);
  if (verdict.ok) return { authorized: true, gatewayId: verdict.payload };
  return {
    authorized: false,
    reason: verdict.code === 'CORE_ERR_AUTH_TOKEN_EXPIRED' ? 'expired' : 'invalid',
  };
}
