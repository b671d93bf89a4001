/**
 * Shared parts of the end-to-end tests: temp dirs, the dev connector with a secret, an in-process
 * sidecar on a real socket / pool / SQLite / HTTP API with every log line captured, the frames
 * the connector injects, and small polling helpers that wait on state (never sleep to assert).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { Sidecar } from '../../sidecar/app.js';
import { DevConnector } from '../../sidecar/dev-connector/index.js';
import { createLogSink, type LogSink } from '../helpers/log-sink.js';
import { type LoopbackAgent, type LoopbackAgentOptions, startAgent } from '../helpers/loopback-agent.js';
import { repoRoot } from '../helpers/repo-root.js';
import { tempDir as tempDirOf } from '../helpers/temp-dir.js';
import { testConfig } from '../helpers/test-config.js';
import { until as waitUntil } from '../helpers/until.js';
import { BOT_ID } from './e2e-frames.js';

export * from './e2e-frames.js';

/**
 * How long any single wait may take, ms. Waits end as soon as their condition holds, so this
 * only bounds a failing run; it is long because CI machines can be heavily loaded.
 */
export const WAIT = 20_000;

/** A fresh temp dir, removed at teardown. */
export function tempDir(t: ExecutionContext, prefix = 'relay-e2e-'): string {
  return tempDirOf(t, prefix);
}

/** A random secret-like string with a recognisable prefix (so a leak is easy to spot). */
export function secretOf(prefix: string): string {
  return `${prefix}-${randomBytes(18).toString('hex')}`;
}

/** The repository's own plugins.json (the four built-in plugins). */
export function repoManifest(): string {
  return join(repoRoot(), 'plugins.json');
}

/**
 * A plugins.json in a temp dir listing `plugins` (manifest entries, as given) and then the real
 * discord-interaction plugin, whose slash commands the tests send as valid frames; its path.
 */
export function manifestWithDiscord(
  t: ExecutionContext,
  plugins: readonly Record<string, unknown>[],
): string {
  const manifestPath = join(tempDir(t), 'plugins.json');
  const discord = {
    name: 'discord-interaction',
    module: join(repoRoot(), 'dist', 'plugins', 'discord-interaction', 'index.js'),
    enabled: true,
  };
  writeFileSync(manifestPath, JSON.stringify({ apiVersion: 1, plugins: [...plugins, discord] }));
  return manifestPath;
}

/** Start a dev connector checking upgrade tokens against `secret`; closed at teardown. */
export async function startConnector(t: ExecutionContext, secret: string): Promise<DevConnector> {
  const connector = await DevConnector.start({ secrets: [secret] });
  t.teardown(() => connector.close());
  return connector;
}

/** The relay part of a config that dials `connector` as a Discord gateway. */
export function relayConfig(connector: DevConnector, secret: string): Record<string, unknown> {
  return {
    url: connector.url,
    gatewayId: 'e2e-gateway',
    secret,
    identities: [{ platform: 'discord', botId: BOT_ID }],
  };
}

/**
 * The environment of a sidecar child process for `connector`: the same relay settings as
 * {@link relayConfig}, plus the agent URL, API token, data dir and the repository's manifest.
 */
export function relayEnv(
  connector: DevConnector,
  secret: string,
  agent: { readonly url: string; readonly token: string; readonly dataDir: string },
): Record<string, string> {
  return {
    GATEWAY_RELAY_URL: connector.url,
    GATEWAY_RELAY_ID: 'e2e-gateway',
    GATEWAY_RELAY_SECRET: secret,
    GATEWAY_RELAY_PLATFORMS: 'discord',
    GATEWAY_RELAY_BOT_IDS: JSON.stringify({ discord: { botId: BOT_ID } }),
    AGENT_URL: agent.url,
    SIDECAR_API_TOKEN: agent.token,
    SIDECAR_DATA_DIR: agent.dataDir,
    SIDECAR_PLUGINS: repoManifest(),
  };
}

/**
 * Test timings for an e2e sidecar on top of `testConfig`: plugin tasks get a generous budget (a
 * worker booting on a busy CI box must not time out), everything else stays short.
 */
export const E2E_TUNABLES = {
  pool: { taskTimeoutMs: 15_000, idleTimeoutMs: 60_000, minThreads: 1, maxThreads: 2 },
  agent: { timeoutMs: 15_000, retryBaseMs: 20, retryMaxMs: 100 },
  // heartbeats and handshakes tolerate a starved event loop: a spurious reconnect would lose
  // live frames and make a test flaky, while these tests are about delivery, not liveness
  relay: {
    backoffBaseMs: 20,
    backoffMaxMs: 100,
    outboundTimeoutMs: 15_000,
    handshakeTimeoutMs: 15_000,
    pingIntervalMs: 1_000,
    pongTimeoutMs: 15_000,
  },
  inbox: { maxAttempts: 3 },
} as const;

/**
 * Tunables of a sidecar child process (its config file): fast reconnects and retries, and long
 * agent, handshake and plugin timeouts, so a hang stays a hang on a loaded machine.
 */
export const CHILD_TUNABLES = {
  relay: {
    backoffBaseMs: 20,
    backoffMaxMs: 100,
    pingIntervalMs: 1_000,
    pongTimeoutMs: 15_000,
    handshakeTimeoutMs: 15_000,
  },
  agent: { timeoutMs: 15_000, retryBaseMs: 20, retryMaxMs: 100 },
  pool: { taskTimeoutMs: 15_000 },
  shutdown: { budgetMs: 3_000 },
} as const;

/** A running in-process sidecar and what the test reads from it. */
export interface InProcess {
  readonly sidecar: Sidecar;
  readonly sink: LogSink;
  readonly token: string;
  readonly dataDir: string;
  /** `fetch` on the agent API with the bearer token. */
  api(path: string, init?: RequestInit): Promise<Response>;
}

/** Options of {@link startInProcess}. */
export interface InProcessOptions {
  readonly connector: DevConnector;
  readonly secret: string;
  /** Push to this URL; absent ⇒ pull mode. */
  readonly agentUrl?: string;
  /** The API token (also the push signing key); default a fresh one. */
  readonly token?: string;
  readonly dataDir?: string;
  readonly manifestPath?: string;
  /** Deep-merged over the e2e timings. */
  readonly config?: Record<string, unknown>;
  /** Log into this sink (a restart keeps one sink); default a new one. */
  readonly sink?: LogSink;
}

/** Start a sidecar in this process (real socket, pool, SQLite, HTTP); stopped at teardown. */
export async function startInProcess(t: ExecutionContext, opts: InProcessOptions): Promise<InProcess> {
  const token = opts.token ?? secretOf('api');
  const dataDir = opts.dataDir ?? tempDir(t);
  const sink = opts.sink ?? createLogSink();
  const config = testConfig(
    deepMergeAll(
      E2E_TUNABLES,
      {
        relay: relayConfig(opts.connector, opts.secret),
        agent: opts.agentUrl ? { mode: 'push', url: opts.agentUrl } : { mode: 'pull' },
        api: { listen: '127.0.0.1:0', token },
        dataDir,
        pluginsPath: opts.manifestPath ?? repoManifest(),
      },
      opts.config ?? {},
    ),
  );
  const sidecar = await Sidecar.start(config, { log: sink.logger, offline: true });
  t.teardown(() => sidecar.stop());
  await sidecar.waitForState('ready', WAIT);
  const address = sidecar.api.address();
  if (address?.kind !== 'tcp') throw new Error('e2e: the agent API is not on TCP');
  const base = `http://${address.host}:${address.port}`;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  return {
    sidecar,
    sink,
    token,
    dataDir,
    api,
  };
}

/** A push-mode sidecar in process and what feeds it: see {@link startPushStack}. */
export interface PushStack {
  readonly secret: string;
  readonly token: string;
  readonly connector: DevConnector;
  readonly agent: LoopbackAgent;
  readonly sc: InProcess;
}

/**
 * A connector, a loopback push agent and an in-process sidecar pushing to it, with fresh secrets;
 * all torn down with `t`. `agent` adds to the agent's options (its token is the API token).
 */
export async function startPushStack(
  t: ExecutionContext,
  opts: {
    readonly config?: Record<string, unknown>;
    readonly agent?: Omit<LoopbackAgentOptions, 'token'>;
  } = {},
): Promise<PushStack> {
  const secret = secretOf('relay');
  const token = secretOf('api');
  const connector = await startConnector(t, secret);
  const agent = await startAgent(t, { ...opts.agent, token });
  const sc = await startInProcess(t, {
    connector,
    secret,
    token,
    agentUrl: agent.url,
    ...(opts.config ? { config: opts.config } : {}),
  });
  return { secret, token, connector, agent, sc };
}

/** Deep-merge plain objects (right wins); arrays and scalars replace. */
export function deepMergeAll(...layers: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      const prev = out[key];
      out[key] =
        isPlain(prev) && isPlain(value)
          ? deepMergeAll(prev, value)
          : isPlain(value)
            ? deepMergeAll(value)
            : value;
    }
  }
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Poll `probe` every 20 ms until it returns true; reject after `timeoutMs` with `what`. */
export function until(
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  return waitUntil(probe, timeoutMs, what, 20);
}
