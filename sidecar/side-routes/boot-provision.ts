/**
 * Boot self-provision (relay contract §7, "hosted boot"): when no gateway id + secret is
 * configured but an identity token is, provision every fronted identity under one gateway id and
 * keep the credentials in process memory. Fail-soft: it never throws and never stops the boot.
 */
import { hostname } from 'node:os';
import type { Config } from '../../core/config/schema.js';
import { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { FetchFn } from './http-client.js';
import { provision } from './provision.js';

/** Credentials obtained at boot. Process memory only: never written to disk, never logged. */
export interface ProvisionedCredentials {
  readonly gatewayId: string;
  readonly secret: string;
  readonly deliveryKey?: string;
  readonly tenant: string;
  /** The fronted platforms the connector accepted, in configured order. */
  readonly platforms: readonly string[];
}

/** Optional dependencies of {@link bootProvision}. */
export interface BootProvisionOptions {
  readonly metrics?: Metrics;
  readonly fetch?: FetchFn;
  /** Host name for the default gateway id; default `os.hostname()`. */
  readonly hostname?: string;
}

/**
 * The gateway id used when none is configured: `gw-<host>`, lowercased, with anything outside
 * `[a-z0-9-]` replaced, so two boots of the same host assert the same id.
 */
export function defaultGatewayId(host: string): string {
  const slug = host
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `gw-${slug || 'relay-sidecar'}`;
}

/**
 * Provision at boot when due. Returns the credentials to dial with, or undefined (not due, or
 * failed — each failure is logged once with `CORE_ERR_PROVISION_FAILED`). Never throws.
 */
export async function bootProvision(
  config: Config,
  log: Logger,
  options: BootProvisionOptions = {},
): Promise<ProvisionedCredentials | undefined> {
  const relay = config.relay;
  const plog = log.child({ component: 'provision' });
  if (relay.gatewayId && relay.secret) {
    plog.debug('relay provision skipped: gateway id and secret configured');
    return undefined;
  }
  if (!relay.identityToken) {
    plog.debug('relay provision skipped: no identity token');
    return undefined;
  }
  if (!relay.url) {
    plog.debug('relay provision skipped: no connector URL');
    return undefined;
  }
  try {
    return await provisionAll(config, plog, options);
  } catch (err) {
    // Defensive: provisionAll handles every expected failure; this keeps the promise "never throws".
    reportError(plog, options.metrics, 'CORE_ERR_PROVISION_FAILED', 'relay provision failed', {
      reason: err instanceof RelayError ? err.message : 'unexpected error',
    });
    return undefined;
  }
}

async function provisionAll(
  config: Config,
  log: Logger,
  options: BootProvisionOptions,
): Promise<ProvisionedCredentials | undefined> {
  const relay = config.relay;
  const gatewayId = relay.gatewayId ?? defaultGatewayId(options.hostname ?? hostname());
  const accepted: string[] = [];
  let creds: Omit<ProvisionedCredentials, 'platforms'> | undefined;
  let tenant = '';
  for (const { platform, botId } of relay.identities) {
    try {
      const res = await provision({
        base: relay.url!,
        identityToken: relay.identityToken!,
        gatewayId,
        platform,
        botId,
        gatewayEndpoint: relay.endpoint ?? '',
        routeKeys: relay.routeKeys,
        instanceId: relay.instanceId,
        wakeUrl: relay.wakeUrl,
        timeoutMs: relay.sideRouteTimeoutMs,
        fetch: options.fetch,
      });
      accepted.push(platform);
      tenant = res.tenant;
      // Keep the newest secret: a connector that rotates per call still honours the latest one.
      if (res.secret !== undefined) {
        creds = {
          gatewayId: res.gatewayId,
          secret: res.secret,
          deliveryKey: res.deliveryKey,
          tenant: res.tenant,
        };
      }
    } catch (err) {
      // One platform failing must not keep the others from coming up.
      const details = err instanceof RelayError ? err.details : undefined;
      reportError(log, options.metrics, 'CORE_ERR_PROVISION_FAILED', 'relay provision failed', {
        platform,
        status: details?.status,
        kind: details?.kind,
        reason: err instanceof RelayError ? err.message : 'unexpected error',
      });
    }
  }
  if (accepted.length === 0) {
    log.warn(
      { code: 'CORE_ERR_PROVISION_FAILED', platforms: relay.identities.map((i) => i.platform) },
      'relay provision failed for every platform; booting without relay credentials',
    );
    return undefined;
  }
  if (!creds) {
    reportError(log, options.metrics, 'CORE_ERR_PROVISION_NO_SECRET', 'relay provision issued no secret', {
      gatewayId,
      tenant,
      platforms: accepted,
    });
    return undefined;
  }
  log.info(
    {
      gatewayId: creds.gatewayId,
      tenant: creds.tenant,
      platforms: accepted,
      routeKeys: relay.routeKeys.length,
      inbound: relay.endpoint ? 'endpoint' : 'outbound-only',
      wake: Boolean(relay.wakeUrl),
    },
    'relay provisioned',
  );
  return { ...creds, platforms: accepted };
}
