/**
 * `POST {base}/relay/policy` (relay contract §7): declare this gateway's relevance policy, one
 * POST per configured platform policy, at every boot. Authenticated with a fresh upgrade token.
 * Fail-soft: relevance is an optimisation on the connector's side, never a boot dependency.
 */
import type { Config } from '../../core/config/schema.js';
import { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import { upgradeToken } from '../../core/transport/auth-token.js';
import { type FetchFn, postSideRoute, routeUrl, serverErrorText, sideRouteError } from './http-client.js';

/** One platform's relevance policy, as sent on the wire. */
export interface RelevancePolicy {
  readonly platform: string;
  readonly requireAddress: boolean;
  readonly freeResponseScopes: readonly string[];
  readonly allowOtherBots: boolean;
}

/** What {@link postPolicies} did. */
export interface PolicyOutcome {
  /** Policies the connector accepted (2xx). */
  readonly sent: number;
  /** Policies that failed (logged with `CORE_ERR_POLICY_FAILED`). */
  readonly failed: number;
  /** Policies left out because every field has its default (the connector's absent-row default). */
  readonly skipped: number;
}

/** Optional dependencies of {@link postPolicies}. */
export interface PostPoliciesOptions {
  /** Credentials to sign with; default `config.relay.gatewayId` / `secret` (e.g. from provision). */
  readonly creds?: { readonly gatewayId: string; readonly secret: string };
  readonly metrics?: Metrics;
  readonly fetch?: FetchFn;
}

const ROUTE = { code: 'CORE_ERR_POLICY_FAILED', route: 'policy' } as const;

/** True when a policy equals the connector's default (mention-gated, no free scopes, no bots). */
export function isDefaultPolicy(p: RelevancePolicy): boolean {
  return p.requireAddress && p.freeResponseScopes.length === 0 && !p.allowOtherBots;
}

/**
 * POST every non-default policy of `config.relay.policies`. Never throws; each failure is logged
 * once with `CORE_ERR_POLICY_FAILED` and the others still go out. `nowMs` dates the token.
 */
export async function postPolicies(
  config: Config,
  log: Logger,
  nowMs: number,
  options: PostPoliciesOptions = {},
): Promise<PolicyOutcome> {
  const plog = log.child({ component: 'policy' });
  const due = config.relay.policies.filter((p) => !isDefaultPolicy(p));
  const skipped = config.relay.policies.length - due.length;
  if (due.length === 0) {
    plog.debug({ skipped }, 'relay policy not sent: all defaults');
    return { sent: 0, failed: 0, skipped };
  }
  const gatewayId = options.creds?.gatewayId ?? config.relay.gatewayId;
  const secret = options.creds?.secret ?? config.relay.secret;
  if (!config.relay.url || !gatewayId || !secret) {
    // Without credentials there is no instance to attach a policy to.
    reportError(plog, options.metrics, 'CORE_ERR_POLICY_FAILED', 'relay policy not sent', {
      reason: !config.relay.url ? 'no connector URL' : 'no gateway id and secret to authenticate with',
      platforms: due.map((p) => p.platform),
    });
    return { sent: 0, failed: due.length, skipped };
  }
  let sent = 0;
  for (const policy of due) {
    try {
      await postPolicy({
        base: config.relay.url,
        token: upgradeToken(gatewayId, secret, nowMs, config.relay.tokenTtlS),
        policy,
        timeoutMs: config.relay.sideRouteTimeoutMs,
        fetch: options.fetch,
      });
      sent++;
      plog.info(
        {
          platform: policy.platform,
          requireAddress: policy.requireAddress,
          freeResponseScopes: policy.freeResponseScopes.length,
          allowOtherBots: policy.allowOtherBots,
        },
        'relay policy declared',
      );
    } catch (err) {
      const details = err instanceof RelayError ? err.details : undefined;
      reportError(plog, options.metrics, 'CORE_ERR_POLICY_FAILED', 'relay policy not accepted', {
        platform: policy.platform,
        status: details?.status,
        kind: details?.kind,
        reason: err instanceof RelayError ? err.message : 'unexpected error',
      });
    }
  }
  return { sent, failed: due.length - sent, skipped };
}

/** Inputs of {@link postPolicy}. */
export interface PostPolicyInput {
  readonly base: string;
  /** A fresh upgrade token (bearer). */
  readonly token: string;
  readonly policy: RelevancePolicy;
  readonly timeoutMs: number;
  readonly fetch?: FetchFn;
}

/** POST one policy; throws `RelayError` `CORE_ERR_POLICY_FAILED` on any non-2xx or failure. */
export async function postPolicy(input: PostPolicyInput): Promise<void> {
  const { platform, requireAddress, freeResponseScopes, allowOtherBots } = input.policy;
  const res = await postSideRoute({
    ...ROUTE,
    url: routeUrl(input.base, '/relay/policy', ROUTE),
    bearer: input.token,
    body: JSON.stringify({ platform, requireAddress, freeResponseScopes, allowOtherBots }),
    contentType: 'application/json',
    timeoutMs: input.timeoutMs,
    fetch: input.fetch,
  });
  if (res.status < 200 || res.status > 299) {
    const text = serverErrorText(res.json, [input.token]);
    throw sideRouteError(ROUTE, 'http', `policy: HTTP ${res.status}: ${text || 'no error text'}`, {
      status: res.status,
    });
  }
}
