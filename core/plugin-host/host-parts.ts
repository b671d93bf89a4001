/**
 * Start-up of the plugin host: manifest, main-thread checks of every enabled plugin, the store,
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
import { type Database, databasePath, openDatabase, storeOpenFailed } from '../store/database.js';
import { KvStore } from '../store/kv-store.js';
import { KvUpkeep } from '../store/kv-upkeep.js';
import type { Identity } from './define-plugin.js';
import { readManifest } from './manifest.js';
import { LOAD_TIMEOUT_MS, loadPlugins, type PluginInfo } from './plugin-loader.js';
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
  const loaded = await loadPlugins(manifest, opts.manifestPath);
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
  // absolute, so every worker opens the same file whatever its cwd
  const dbPath = resolve(databasePath(config.dataDir));
  const db = openDatabase(dbPath);
  const clock = opts.clock ?? systemClock;
  let kv: KvStore;
  try {
    kv = new KvStore(db, () => clock.now());
  } catch (err) {
    // migrating the plugin store is the first write at start: a held lock or a damaged file shows here
    db.close();
    throw storeOpenFailed(`the store ${dbPath}`, err);
  }
  const identities = (opts.identities ?? config.relay.identities).map((i) => ({
    platform: i.platform,
    botId: i.botId,
  }));
  const plugins = loaded.enabled.map((p) => ({ name: p.info.name, url: p.url, options: p.entry.options }));
  const pool = new PluginPool({
    pool: config.pool,
    worker: { plugins, identities, dbPath },
    log: opts.log,
    metrics: opts.metrics,
  });
  try {
    // a module that loads on the main thread but not in a worker must also stop the start
    const [first] = await pool.warm(config.pool.minThreads, LOAD_TIMEOUT_MS);
    if (first) {
      throw new RelayError(
        isErrorCode(first.error.code) ? first.error.code : 'CORE_ERR_PLUGIN_LOAD_FAILED',
        first.error.message,
      );
    }
  } catch (err) {
    await pool.close();
    db.close();
    if (err instanceof RelayError) throw err;
    throw new RelayError(
      'CORE_ERR_PLUGIN_LOAD_FAILED',
      `plugins failed to load in the worker pool: ${String(err)}`,
    );
  }
  return { infos: loaded.infos, table, pool, db, kv, kvUpkeep: new KvUpkeep(db, () => clock.now()) };
}
