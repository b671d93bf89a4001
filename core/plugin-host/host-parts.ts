/**
 * Start-up of the plugin host: manifest, checks of every enabled plugin (in a short-lived worker
 * thread: no plugin code runs on the main thread), the store,
 * and the pool with the plugins loaded in its first workers. Whatever fails, nothing is left
 * running and a RelayError names the plugin and the problem.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { type Clock, systemClock } from '../di/clock.js';
import { isErrorCode, RelayError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import { PluginPool } from '../pool/plugin-pool.js';
import { refusedStart, threadRefused } from '../pool/refused-start.js';
import { type Database, databasePath, openDatabase, storeOpenFailed } from '../store/database.js';
import { KvStore } from '../store/kv-store.js';
import { KvUpkeep } from '../store/kv-upkeep.js';
import { logLateCalls, storeGate } from '../store/store-gate.js';
import type { StoreLimits } from '../store/store-limits.js';
import type { Identity } from './define-plugin.js';
import { readManifest } from './manifest.js';
import {
  checkPlugins,
  LOAD_TIMEOUT_MS,
  type LoadedManifest,
  type LocatedPlugin,
  locatePlugins,
  type PluginInfo,
} from './plugin-loader.js';
import { PluginTable } from './plugin-table.js';

/** Options of `PluginHost.load`. */
export interface PluginHostOptions {
  /** Path of `plugins.json`. */
  readonly manifestPath: string;
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Fronted identities given to hooks; default `config.relay.identities`. */
  readonly identities?: readonly Identity[];
  /** Clock of the main thread's store (TTL checks); default the system clock. */
  readonly clock?: Clock;
}

/** Everything a started host owns. */
export interface HostParts {
  readonly infos: readonly PluginInfo[];
  readonly table: PluginTable;
  readonly pool: PluginPool;
  readonly db: Database;
  readonly kv: KvStore;
  /** The sweep and key cap of the store, on the main thread's connection (same clock as `kv`). */
  readonly kvUpkeep: KvUpkeep;
}

/** Start the parts of a host; throws `CORE_ERR_PLUGIN_*` / `CORE_ERR_STORE_OPEN_FAILED`. */
export async function openHostParts(opts: PluginHostOptions): Promise<HostParts> {
  const { config } = opts;
  const manifest = readManifest(opts.manifestPath, config.pool.taskTimeoutMs);
  const found = locatePlugins(manifest, opts.manifestPath);
  const { maxOldGenerationSizeMb, maxYoungGenerationSizeMb } = config.pool;
  const checking = checkPlugins(found, {
    loadTimeoutMs: LOAD_TIMEOUT_MS,
    resourceLimits: { maxOldGenerationSizeMb, maxYoungGenerationSizeMb },
  });
  // absolute, so every worker opens the same file whatever its cwd
  const dbPath = resolve(databasePath(config.dataDir));
  // the pool's workers start, importing the same modules, while the check thread runs: the check
  // costs the start little beyond its own thread (decisions.md, "Plugin isolation"); a refusal
  // closes them again
  const pool = found.refusal ? undefined : startPool(opts, found.located, dbPath);
  let db: Database | undefined;
  try {
    const loaded = await checking;
    const table = describe(opts, loaded);
    db = openDatabase(dbPath);
    const clock = opts.clock ?? systemClock;
    const kv = openKv(db, dbPath, clock, storeLimits(config));
    await warm(pool as PluginPool, config.pool.minThreads);
    const kvUpkeep = new KvUpkeep(db, () => clock.now());
    return { infos: loaded.infos, table, pool: pool as PluginPool, db, kv, kvUpkeep };
  } catch (err) {
    await pool?.close();
    db?.close();
    throw err;
  }
}

/** A module that passed the check but does not load in a pool worker must also stop the start. */
async function warm(pool: PluginPool, threads: number): Promise<void> {
  let failed: Awaited<ReturnType<PluginPool['warm']>>;
  try {
    failed = await pool.warm(threads, LOAD_TIMEOUT_MS);
  } catch (err) {
    if (threadRefused(err)) throw refusedStart("the plugin pool's first worker", err);
    throw new RelayError(
      'CORE_ERR_PLUGIN_LOAD_FAILED',
      `plugins failed to load in the worker pool: ${String(err)}`,
    );
  }
  const [first] = failed;
  if (first) {
    throw new RelayError(
      isErrorCode(first.error.code) ? first.error.code : 'CORE_ERR_PLUGIN_LOAD_FAILED',
      first.error.message,
    );
  }
}

/** The pool, its workers loading the located plugins. */
function startPool(opts: PluginHostOptions, located: readonly LocatedPlugin[], dbPath: string): PluginPool {
  const identities = (opts.identities ?? opts.config.relay.identities).map((i) => ({
    platform: i.platform,
    botId: i.botId,
  }));
  const plugins = located.map(({ entry, url }) => ({ name: entry.name, url, options: entry.options }));
  // before the pool's first worker: the gate guards the workers created after it (store-gate.ts)
  const gate = storeGate(logLateCalls(opts.log));
  return new PluginPool({
    pool: opts.config.pool,
    worker: { plugins, identities, dbPath, storeLimits: storeLimits(opts.config), storeGate: gate },
    log: opts.log,
    metrics: opts.metrics,
  });
}

/** Log where each plugin was loaded from, build the table, warn of ops nobody defines. */
function describe(opts: PluginHostOptions, loaded: LoadedManifest): PluginTable {
  // the manifest names a path, a package or a link: say which file each plugin really is
  for (const p of loaded.enabled) {
    opts.log.info(
      { component: 'plugin-host', plugin: p.info.name, module: p.info.module, file: p.file },
      'plugin loaded',
    );
  }
  const table = new PluginTable(loaded.enabled);
  loaded.enabled.forEach((p, index) => {
    const ops = table.unknownOutboundOps(index);
    // the hook never runs on these: most likely a typo that silently switched it off
    if (ops.length > 0) {
      const fields = { component: 'plugin-host', plugin: p.info.name, ops };
      reportError(
        opts.log,
        opts.metrics,
        'CORE_ERR_PLUGIN_UNKNOWN_OP',
        'plugin hooks an op nobody defines',
        fields,
      );
    }
  });
  return table;
}

/** The size limits of one store write, from the config (the same on every thread). */
function storeLimits(config: Config): StoreLimits {
  return { maxKeyBytes: config.store.maxKeyBytes, maxValueBytes: config.store.maxValueBytes };
}

function openKv(db: Database, dbPath: string, clock: Clock, limits: StoreLimits): KvStore {
  try {
    return new KvStore(db, () => clock.now(), limits);
  } catch (err) {
    // migrating the plugin store is the first write at start: a held lock or a damaged file shows here
    throw storeOpenFailed(`the store ${dbPath}`, err);
  }
}
