/**
 * Start a real {@link PluginHost} (real piscina pool, real SQLite file in a temp dir) on a temp
 * `plugins.json`, with every log line captured and parsed. Torn down with the test.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { validateConfig } from '../../core/config/load.js';
import type { Identity } from '../../core/index.js';
import { createLogger } from '../../core/log/logger.js';
import { Metrics } from '../../core/metrics/metrics.js';
import { PluginHost } from '../../core/plugin-host/plugin-host.js';
import { repoRoot } from '../helpers/repo-root.js';
import { removeDir } from '../helpers/temp-dir.js';

/** One manifest entry; `module` is written as given (absolute paths from {@link builtinModule}). */
export interface HarnessPlugin {
  readonly name: string;
  readonly module: string;
  readonly enabled?: boolean;
  readonly options?: Record<string, unknown>;
  readonly timeoutMs?: number;
}

/** A running host and what it wrote. */
export interface Harness {
  readonly host: PluginHost;
  readonly metrics: Metrics;
  readonly dataDir: string;
  readonly manifestPath: string;
  /** Every log line so far, parsed. */
  lines(): Record<string, unknown>[];
  /** Every log line so far, raw. */
  rawLogs(): string;
  /** The raw bytes of every store file (database, WAL, shared memory), as latin1 text. */
  storeBytes(): string;
}

/** The absolute path of a compiled built-in plugin module. */
export function builtinModule(name: string): string {
  return join(repoRoot(), 'dist', 'plugins', name, 'index.js');
}

/** The four built-ins in the order of the project's `plugins.json`. */
export const BUILTINS: readonly HarnessPlugin[] = [
  'scope-reattacher',
  'follow-up',
  'discord-interaction',
  'twilio',
].map((name) => ({ name, module: builtinModule(name) }));

/** Registers cleanup: `(fn) => t.teardown(fn)` in a test, a list run by `test.after.always` for a shared host. */
export type Cleanup = (fn: () => unknown) => void;

/**
 * Load a host on `plugins` (written as a manifest into a temp data dir) or on an existing manifest
 * file; `cleanup` closes the host and removes the data dir.
 */
export async function startHost(
  cleanup: Cleanup,
  plugins: readonly HarnessPlugin[] | string,
  identities: readonly Identity[] = [],
): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-plugins-'));
  cleanup(() => removeDir(dataDir));
  let manifestPath = join(dataDir, 'plugins.json');
  if (typeof plugins === 'string') manifestPath = plugins;
  else writeFileSync(manifestPath, JSON.stringify({ apiVersion: 1, plugins }));
  const chunks: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: { write: (chunk: string) => void chunks.push(chunk) },
  });
  const metrics = new Metrics();
  const config = validateConfig({ dataDir, pool: { minThreads: 1, maxThreads: 2 }, agent: { mode: 'pull' } });
  const host = await PluginHost.load({ manifestPath, config, log, metrics, identities });
  cleanup(() => host.close());
  return {
    host,
    metrics,
    dataDir,
    manifestPath,
    rawLogs: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    storeBytes: () =>
      readdirSync(dataDir)
        .filter((f) => f !== 'plugins.json')
        .map((f) => readFileSync(join(dataDir, f)).toString('latin1'))
        .join('\n'),
  };
}

/**
 * One host shared by the tests of a file: registers `test.before` (load) and `test.after.always`
 * (close the host, then remove its data dir). Call at the top level; the getter throws before load.
 */
export function sharedHost(
  plugins: readonly HarnessPlugin[] | string,
  identities: readonly Identity[] = [],
): () => Harness {
  let harness: Harness | undefined;
  // closed last (LIFO): the host before its data directory
  const cleanups: (() => unknown)[] = [];
  test.before(async () => {
    harness = await startHost((fn) => cleanups.unshift(fn), plugins, identities);
  });
  test.after.always(async () => {
    for (const fn of cleanups) await fn();
  });
  return () => {
    if (!harness) throw new Error('sharedHost: the host is not loaded yet');
    return harness;
  };
}
