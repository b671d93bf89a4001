/**
 * A `relay-sidecar run` child wired to a loopback dev connector: credentials, a temp data dir,
 * the repository's plugins.json, the API on an ephemeral loopback port, and a config file with
 * short timeouts. Everything it starts is closed or killed at teardown.
 */
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { DevConnector, type DevConnectorOptions } from '../../../sidecar/dev-connector/index.js';
import { CHILD_WAIT_MS, PLUGINS, type SidecarChild, spawnCli, tempDir, writeJson } from './sidecar-child.js';

/** Short timings for a child sidecar (nested config form); tests override single keys. */
export const CHILD_TIMINGS = {
  relay: {
    handshakeTimeoutMs: 2_000,
    backoffBaseMs: 10,
    backoffMaxMs: 50,
    // pending outbound calls must be settled by the shutdown, not by their own timeout
    outboundTimeoutMs: 60_000,
    shutdownGoingIdleTimeoutMs: 500,
    sideRouteTimeoutMs: 200,
  },
  agent: { retryBaseMs: 20, retryMaxMs: 200, timeoutMs: 60_000 },
  pool: { minThreads: 1, maxThreads: 1 },
  shutdown: { budgetMs: 2_000 },
} as const;

/** A running connector with the credentials a child dials with. */
export interface Relay {
  readonly connector: DevConnector;
  readonly gatewayId: string;
  readonly secret: string;
}

/** Start a dev connector that requires a fresh secret; closed at teardown. */
export async function startRelay(t: ExecutionContext, options: DevConnectorOptions = {}): Promise<Relay> {
  const secret = randomBytes(24).toString('hex');
  const connector = await DevConnector.start({ secrets: [secret], ...options });
  t.teardown(() => connector.close());
  return { connector, gatewayId: `gw-${randomBytes(4).toString('hex')}`, secret };
}

/** What {@link runChild} starts from. */
export interface RunChildOptions {
  /** Data dir to reuse (a restart); default a fresh temp dir. */
  readonly dataDir?: string;
  /** Push agent URL; default pull mode. */
  readonly agentUrl?: string;
  /** Deep overrides of {@link CHILD_TIMINGS} (nested form, merged per section). */
  readonly config?: Record<string, Record<string, unknown>>;
  /** Extra or replacing env variables. */
  readonly env?: Record<string, string>;
  /** Identities as GATEWAY_RELAY_PLATFORMS; default `discord`. */
  readonly platforms?: string;
}

/** A started `run` child. */
export interface RunChild {
  readonly child: SidecarChild;
  readonly env: Record<string, string>;
  readonly dataDir: string;
  readonly apiToken: string;
}

/** The env of a `run` child against `relay` (also for tests that expect a refused start). */
export function runEnv(t: ExecutionContext, relay: Relay, opts: RunChildOptions = {}): RunChild['env'] {
  const dir = tempDir(t);
  const config: Record<string, Record<string, unknown>> = {};
  for (const [section, values] of Object.entries(CHILD_TIMINGS)) config[section] = { ...values };
  for (const [section, values] of Object.entries(opts.config ?? {})) {
    config[section] = { ...config[section], ...values };
  }
  return {
    GATEWAY_RELAY_URL: relay.connector.url,
    GATEWAY_RELAY_ID: relay.gatewayId,
    GATEWAY_RELAY_SECRET: relay.secret,
    GATEWAY_RELAY_PLATFORMS: opts.platforms ?? 'discord',
    GATEWAY_RELAY_BOT_IDS: JSON.stringify({ discord: { botId: '987654321098765432' } }),
    SIDECAR_LISTEN: '127.0.0.1:0',
    SIDECAR_API_TOKEN: randomBytes(24).toString('hex'),
    SIDECAR_DATA_DIR: opts.dataDir ?? tempDir(t),
    SIDECAR_PLUGINS: PLUGINS,
    SIDECAR_CONFIG: writeJson(dir, 'config.json', config),
    ...(opts.agentUrl ? { AGENT_URL: opts.agentUrl } : { AGENT_MODE: 'pull' }),
    ...opts.env,
  };
}

/** Spawn `run` against `relay` and wait until its first connection has completed the handshake. */
export async function runChild(
  t: ExecutionContext,
  relay: Relay,
  opts: RunChildOptions = {},
): Promise<RunChild> {
  const env = runEnv(t, relay, opts);
  const before = relay.connector.totalConnections();
  const child = spawnCli(t, ['run'], env);
  await child.apiUrl();
  await waitReady(relay.connector, before);
  // the child's own view: `ready` is what makes the shutdown send going_idle
  await child.waitLog((l) => l.msg === 'relay state changed' && l.state === 'ready');
  return { child, env, dataDir: env.SIDECAR_DATA_DIR ?? '', apiToken: env.SIDECAR_API_TOKEN ?? '' };
}

/** Resolve when a connection newer than `afterConn` has been answered with a descriptor. */
export async function waitReady(
  connector: DevConnector,
  afterConn: number,
  timeoutMs = CHILD_WAIT_MS,
): Promise<number> {
  const conn = await connector.waitForConnection(timeoutMs, afterConn);
  await connector.waitFor(
    (f) => f.dir === 'out' && f.conn === conn && f.frame.type === 'descriptor',
    timeoutMs,
  );
  return conn;
}

/** An API answer: the status and the JSON body fields the tests read. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: {
    readonly state?: string;
    readonly error?: { readonly code?: string };
    readonly result?: unknown;
    readonly inbox?: { readonly pending: number; readonly delivered: number };
  };
}

/** `fetch` against the child's API with its bearer token. */
export async function api(
  run: RunChild,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<ApiAnswer> {
  const base = await run.child.apiUrl();
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${run.apiToken}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as ApiAnswer['body'] };
  } catch {
    // not JSON (metrics, say): no fields to read
    return { status: res.status, body: {} };
  }
}
