/**
 * `POST {base}/relay/provision` (relay contract §7): hosted boot, where the caller's identity
 * token alone buys this gateway its per-gateway credentials (kept in process memory only).
 */
import { z } from 'zod';
import {
  DEFAULT_SIDE_ROUTE_TIMEOUT_MS,
  type FetchFn,
  postSideRoute,
  routeUrl,
  serverErrorText,
  sideRouteError,
} from './http-client.js';

/**
 * The connector's provision answer. `secretIssued: false` is a normal answer (the connector kept
 * the secret it issued before); an answer with neither a secret nor `secretIssued` is malformed.
 */
export const ProvisionResponseSchema = z
  .object({
    secret: z.string().min(1).optional(),
    deliveryKey: z.string().optional(),
    tenant: z.string(),
    gatewayId: z.string().min(1),
    routeKeys: z.array(z.string()).default([]),
    secretIssued: z.boolean().optional(),
  })
  .refine((r) => r.secret !== undefined || r.secretIssued === false, {
    message: 'no secret and no secretIssued:false',
    path: ['secret'],
  });

/** A provision answer. `secret` is absent exactly when the connector answered `secretIssued:false`. */
export type ProvisionResult = z.infer<typeof ProvisionResponseSchema>;

/** Inputs of {@link provision}: the contract's request body plus where and how to send it. */
export interface ProvisionInput {
  readonly base: string;
  /** Caller identity bearer (`GATEWAY_RELAY_IDENTITY_TOKEN`). */
  readonly identityToken: string;
  readonly gatewayId: string;
  readonly platform: string;
  readonly botId: string;
  /** Public inbound URL of this gateway; `""` when outbound-only. */
  readonly gatewayEndpoint: string;
  readonly routeKeys: readonly string[];
  readonly instanceId?: string;
  readonly wakeUrl?: string;
  /** Default 15 s. */
  readonly timeoutMs?: number;
  readonly fetch?: FetchFn;
}

const ROUTE = { code: 'CORE_ERR_PROVISION_FAILED', route: 'provision' } as const;

/**
 * Provision one fronted identity. Throws `RelayError` `CORE_ERR_PROVISION_FAILED` (details
 * `kind`, `status`) on any failure; messages never contain the identity token or a secret.
 */
export async function provision(input: ProvisionInput): Promise<ProvisionResult> {
  const body: Record<string, unknown> = {
    gatewayId: input.gatewayId,
    platform: input.platform,
    botId: input.botId,
    gatewayEndpoint: input.gatewayEndpoint,
    routeKeys: [...input.routeKeys],
  };
  // Optional keys are omitted, not sent empty, so the connector stores null.
  if (input.instanceId) body.instanceId = input.instanceId;
  if (input.wakeUrl) body.wakeUrl = input.wakeUrl;
  const res = await postSideRoute({
    ...ROUTE,
    url: routeUrl(input.base, '/relay/provision', ROUTE),
    bearer: input.identityToken,
    body: JSON.stringify(body),
    contentType: 'application/json',
    timeoutMs: input.timeoutMs ?? DEFAULT_SIDE_ROUTE_TIMEOUT_MS,
    fetch: input.fetch,
  });
  if (res.status < 200 || res.status > 299) {
    const text = serverErrorText(res.json, [input.identityToken]);
    throw sideRouteError(ROUTE, 'http', `provision: HTTP ${res.status}: ${text || 'no error text'}`, {
      status: res.status,
    });
  }
  const parsed = ProvisionResponseSchema.safeParse(res.json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw sideRouteError(ROUTE, 'bad-response', `provision: unexpected answer (${problems.join('; ')})`, {
      status: res.status,
    });
  }
  return parsed.data;
}
