/**
 * Start a real PluginHost (real piscina pool, real SQLite file in a temp dir) on a temp manifest
 * listing fixture plugins from `test/fixtures/plugins/`, with every log line captured.
 */
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { type MessageEvent, MessageEventSchema, type PassthroughForward } from '../../../core/index.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { PluginHost } from '../../../core/plugin-host/plugin-host.js';
import { createLogSink, type LogSink } from '../../helpers/log-sink.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { removeDir } from '../../helpers/temp-dir.js';
import { testConfig } from '../../helpers/test-config.js';

/** The compiled fixture plugins directory. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/plugins/', import.meta.url));

/** Absolute path of a compiled fixture plugin. */
export function fixture(name: string): string {
  return join(FIXTURES_DIR, `${name}.js`);
}

/** One manifest entry (written as given). */
export interface Entry {
  name: string;
  module?: string;
  enabled?: boolean;
  options?: Record<string, unknown>;
  timeoutMs?: number;
}

/** Default budgets: slow enough for a replacement worker to boot on a busy CI box. */
export const ECHO: Entry = { name: 'echo', timeoutMs: 10_000 };
/** Fault budgets: short, so a loop or a hang is cut quickly. */
export const FAULT_TIMEOUT_MS = 250;

/** A running host. */
export interface FixtureHost {
  readonly host: PluginHost;
  readonly metrics: Metrics;
  readonly sink: LogSink;
  readonly dataDir: string;
  readonly manifestPath: string;
}

/** Write a manifest into a temp dir. */
export function writeManifest(t: ExecutionContext, manifest: unknown): { dir: string; manifestPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'relay-host-'));
  t.teardown(() => removeDir(dir));
  const manifestPath = join(dir, 'plugins.json');
  writeFileSync(manifestPath, typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  return { dir, manifestPath };
}

/** The fixture packages (`test/fixtures/packages/<name>/`, plain files: not compiled). */
export const FIXTURE_PACKAGES = ['esm-only-plugin', 'dual-package', 'main-only'] as const;

/**
 * Install the fixture packages into `dir/node_modules`, beside `relay-sidecar` itself (a link to
 * this repository, as `npm install relay-sidecar` would put it), as a user installs plugins.
 */
export function installFixturePackages(dir: string): void {
  const modules = join(dir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  for (const name of FIXTURE_PACKAGES) {
    cpSync(join(repoRoot(), 'test', 'fixtures', 'packages', name), join(modules, name), { recursive: true });
  }
  symlinkSync(repoRoot(), join(modules, 'relay-sidecar'), 'dir');
}

/** The manifest of `entries` (modules default to the fixture of the same name). */
export function manifestOf(entries: readonly Entry[]) {
  return { apiVersion: 1, plugins: entries.map((e) => ({ module: fixture(e.name), ...e })) };
}

/** Load a host on `entries` (`config`: more keys of the test config); closed at teardown. */
export async function startFixtureHost(
  t: ExecutionContext,
  entries: readonly Entry[],
  pool: Record<string, unknown> = {},
  config: Record<string, unknown> = {},
): Promise<FixtureHost> {
  const { dir, manifestPath } = writeManifest(t, manifestOf(entries));
  const sink = createLogSink();
  const metrics = new Metrics();
  const hostConfig = testConfig({
    ...config,
    dataDir: dir,
    pool: {
      minThreads: 1,
      maxThreads: 1,
      maxQueue: 64,
      maxOldGenerationSizeMb: 32,
      maxYoungGenerationSizeMb: 8,
      ...pool,
    },
  });
  const host = await PluginHost.load({
    manifestPath,
    config: hostConfig,
    log: sink.logger,
    metrics,
    identities: [{ platform: 'echo', botId: 'B1' }],
  });
  t.teardown(() => host.close());
  return { host, metrics, sink, dataDir: dir, manifestPath };
}

/** A passthrough forward whose body is `body` (JSON-encoded unless a string). */
export function forward(platform: string, body: unknown, profile: string | null = null): PassthroughForward {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    platform,
    botId: 'B1',
    method: 'POST',
    path: '/hook',
    headers: [['content-type', 'application/json']],
    bodyB64: Buffer.from(text).toString('base64'),
    profile,
  };
}

/** A validated MessageEvent with `text`. */
export function event(text: string): MessageEvent {
  return MessageEventSchema.parse({
    text,
    source: { platform: 'echo', chat_id: 'c1', chat_type: 'dm', user_id: 'u1' },
  });
}

/** The inbound input for `text`. */
export function inboundInput(text: string) {
  return { event: event(text), sessionKey: 'agent:main:echo:dm:c1', capabilities: [] as string[] };
}

/** The worker thread id that converted an echo forward (throws when it did not convert). */
export async function echoThread(host: PluginHost, text = 'ping'): Promise<number> {
  const outcome = await host.convertForward(forward('echo', { text }));
  if (outcome.kind !== 'events') throw new Error(`echo did not convert: ${JSON.stringify(outcome)}`);
  return outcome.events[0]?.event.worker_thread as number;
}
