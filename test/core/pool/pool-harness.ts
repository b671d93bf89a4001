/**
 * A real plugin pool on fixture plugins, in a temp data dir (its SQLite store), one worker by
 * default; the pool and the dir are torn down with the test.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExecutionContext } from 'ava';
import { MessageEventSchema } from '../../../core/index.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { type BatchItem, PluginPool } from '../../../core/pool/plugin-pool.js';
import type { RenewDelays } from '../../../core/pool/pool-renewal.js';
import { createLogSink, type LogSink } from '../../helpers/log-sink.js';
import { removeDir } from '../../helpers/temp-dir.js';
import { testConfig } from '../../helpers/test-config.js';
import { fixture } from '../plugin-host/fixture-host.js';

const event = MessageEventSchema.parse({ text: 'x', source: { platform: 'echo', chat_id: 'c' } });

/** An inbound chain of the plugin at manifest index `plugin` alone, on an event with `text`. */
/**
 * Budget of a test's warm-up, ms: loading a fixture pool's plugins took over 10 s once on a CI
 * machine loaded far past its two cores (all four of plugin-pool's warm-ups aborted at once).
 */
export const WARM_MS = 60_000;

export const inbound = (plugin: number, text: string, budgetMs = 10_000): BatchItem => ({
  task: {
    k: 'inbound',
    chain: [plugin],
    input: { event: { ...event, text }, sessionKey: 'k', capabilities: [] },
  },
  budgets: [budgetMs],
});

/** Options of {@link startFixturePool}. */
export interface FixturePoolOptions {
  /** `pool` config over one worker (`minThreads: 1, maxThreads: 1`). */
  readonly pool?: Record<string, unknown>;
  readonly closeBudgetMs?: number;
  /** The workers' entry file (default the real one). */
  readonly entry?: string;
  /** Waits before a pool that gave up on starting workers is renewed (default the real ones). */
  readonly renewDelays?: RenewDelays;
  /** Longest a renewal's check waits for a worker, ms (default the real one). */
  readonly renewWarmMs?: number;
}

/**
 * A pool on the fixture plugins `plugins` (by name, or a name and a module file of the test's, in
 * chain order), with its metrics and log.
 */
export function startFixturePool(
  t: ExecutionContext,
  plugins: readonly (string | { readonly name: string; readonly module: string })[],
  opts: FixturePoolOptions = {},
): { pool: PluginPool; metrics: Metrics; sink: LogSink } {
  const dir = mkdtempSync(join(tmpdir(), 'relay-pool-'));
  t.teardown(() => removeDir(dir));
  const config = testConfig({ dataDir: dir, pool: { minThreads: 1, maxThreads: 1, ...opts.pool } });
  const metrics = new Metrics();
  const sink = createLogSink();
  const pool = new PluginPool({
    pool: config.pool,
    worker: {
      plugins: plugins.map((p) => {
        const { name, module } = typeof p === 'string' ? { name: p, module: fixture(p) } : p;
        return { name, url: pathToFileURL(module).href, options: {} };
      }),
      identities: [],
      dbPath: join(dir, 'sidecar.db'),
    },
    log: sink.logger,
    metrics,
    ...(opts.closeBudgetMs === undefined ? {} : { closeBudgetMs: opts.closeBudgetMs }),
    ...(opts.entry === undefined ? {} : { entry: opts.entry }),
    ...(opts.renewDelays === undefined ? {} : { renewDelays: opts.renewDelays }),
    ...(opts.renewWarmMs === undefined ? {} : { renewWarmMs: opts.renewWarmMs }),
  });
  t.teardown(async () => {
    // the pool's own timers are unref'd: keep the process up while a close waits for a hung task
    const alive = setInterval(() => undefined, 1_000);
    await pool.close();
    clearInterval(alive);
  });
  return { pool, metrics, sink };
}
