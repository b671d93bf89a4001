/**
 * The `relay` section of the configuration: the connection to the connector, its identities and
 * relevance policies. Part of the one strict schema (schema.ts).
 */
import { z } from 'zod';
import { CommandManifestEntrySchema } from '../protocol/frames.js';
import { CONNECTOR_URL_FORM, connectorUrlProblem } from '../transport/dial-url.js';
import { connectorCallbackUrlProblem } from './http-url.js';
import { count, ms } from './units.js';

/** One fronted identity: one `hello` each, in order; the first is the session default. */
export const IdentitySchema = z.strictObject({
  // a name, never a list: "discord twilio" (a space where the comma goes) was one identity
  platform: z
    .string()
    .min(1)
    .regex(/^[^\s,]+$/, {
      message:
        'must be one platform name, without spaces or commas: GATEWAY_RELAY_PLATFORMS is a comma list (discord,twilio)',
    }),
  botId: z.string().default(''),
});

/** Each identity once: a second hello for the same platform and bot fronts nothing more. */
function identitiesOnce(
  identities: readonly { platform: string; botId: string }[],
  ctx: z.RefinementCtx,
): void {
  const first = new Map<string, number>();
  identities.forEach(({ platform, botId }, i) => {
    const key = JSON.stringify([platform, botId]);
    const at = first.get(key);
    // by position, never the value: a config error echoes no value (config.md)
    if (at !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [i],
        message: `is identity ${at} again (the same platform and bot id, so the same hello twice): list each identity once`,
      });
    else first.set(key, i);
  });
}

/**
 * A URL the connector is given (enroll, provision) and calls: checked at load by the http(s) rule
 * of AGENT_URL, so a bad one stops the start naming the key instead of reaching the connector.
 */
const connectorCallbackUrl = (example: string) =>
  z
    .string()
    .min(1)
    .superRefine((url, ctx) => {
      const problem = connectorCallbackUrlProblem(url, example);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional();

/** The wake URL's example in messages (config, `enroll --wake-url`). */
export const WAKE_URL_EXAMPLE = 'https://gateway.example/wake';

/** Relevance policy for one platform (POST /relay/policy). */
export const PolicySchema = z.strictObject({
  platform: z.string().min(1),
  requireAddress: z.boolean().default(true),
  freeResponseScopes: z.array(z.string()).default([]),
  allowOtherBots: z.boolean().default(false),
});

/** Connection to the relay connector. */
export const RelayConfigSchema = z.strictObject({
  /**
   * Connector base URL, http(s) or ws(s); normalised to the dial URL. Required for `run`. Checked
   * here by the dial URL's own rule, so a bad URL stops the start before anything opens.
   */
  url: z
    .string()
    .min(1)
    .superRefine((url, ctx) => {
      const problem = connectorUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: `must be ${CONNECTOR_URL_FORM} (${problem})` });
    })
    .optional(),
  /** Gateway id (token payload). With `secret`: authenticated dial. */
  gatewayId: z.string().min(1).optional(),
  /** Per-gateway secret. Never logged. */
  secret: z.string().min(1).optional(),
  /** Per-tenant delivery key (stored, unused by WS inbound). */
  deliveryKey: z.string().min(1).optional(),
  /** Fronted identities, in order. Default: the legacy single identity `relay`/"". */
  identities: z
    .array(IdentitySchema)
    .min(1)
    .superRefine(identitiesOnce)
    .default([{ platform: 'relay', botId: '' }]),
  /** Caller identity bearer for /relay/enroll and /relay/provision. */
  identityToken: z.string().min(1).optional(),
  /** Single-use enrolment token. */
  enrollToken: z.string().min(1).optional(),
  /** URL the connector may GET to wake this gateway (enroll, provision): absolute http(s). */
  wakeUrl: connectorCallbackUrl(WAKE_URL_EXAMPLE),
  /** Provision extra: the connector's instance id for this gateway. */
  instanceId: z.string().min(1).optional(),
  /** Provision `gatewayEndpoint`: where the connector reaches this gateway, absolute http(s). */
  endpoint: connectorCallbackUrl('https://gateway.example/relay'),
  routeKeys: z.array(z.string().min(1)).default([]),
  /** Relevance policies sent at boot (fail-soft). */
  policies: z.array(PolicySchema).default([]),
  /**
   * Discord application-command manifest sent with the discord hello, checked here by the hello's
   * own entry schema: one it would refuse was left off the hello at every dial, the start going on.
   */
  commandManifest: z.array(CommandManifestEntrySchema).optional(),
  /** Largest accepted WebSocket message, bytes (also caps the partial-line buffer). 16 MiB. */
  maxPayloadBytes: count(16 * 1024 * 1024),
  /**
   * Bytes written to the socket and not yet taken by the connector above which frames are refused
   * (outbound: `relay send failed`; an ack: left to redelivery), bytes. 16 MiB.
   */
  maxSendBufferBytes: count(16 * 1024 * 1024),
  /** Time from the dial to the first valid descriptor (the upgrade included), ms. 30 s. */
  handshakeTimeoutMs: ms(30_000),
  /** WebSocket ping interval, ms. 30 s. */
  pingIntervalMs: ms(30_000),
  /** No pong within this ⇒ socket dead (set again while a message is still arriving), ms. 60 s. */
  pongTimeoutMs: ms(60_000),
  /** Outbound result timeout, ms. 30 s. */
  outboundTimeoutMs: ms(30_000),
  /** Most outbound calls awaiting a result at once. */
  maxPendingOutbound: count(100_000),
  /** Reconnect backoff base, ms. 1 s. */
  backoffBaseMs: ms(1_000),
  /** Reconnect backoff cap, ms. 30 s. */
  backoffMaxMs: ms(30_000),
  /** A connection up this long resets the backoff ladder, ms. 60 s. */
  stableAfterMs: ms(60_000),
  /** going_idle → going_idle_ack wait, ms. 10 s. */
  goingIdleTimeoutMs: ms(10_000),
  /** going_idle wait during shutdown, ms. 2 s. */
  shutdownGoingIdleTimeoutMs: ms(2_000),
  /** Upgrade token lifetime, s. 300 s. */
  tokenTtlS: count(300),
  /** Timeout of side-route HTTP calls (enroll, provision, policy, media), ms. 15 s. */
  sideRouteTimeoutMs: ms(15_000),
  /** Keep the process up after `revoked` (for inspection) instead of exiting. */
  stayUpWhenRevoked: z.boolean().default(false),
});
