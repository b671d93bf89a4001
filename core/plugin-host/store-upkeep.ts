/**
 * The plugin stores' upkeep on the main thread (docs/decisions.md, "A cap on each plugin's keys"):
 * every `store.upkeepIntervalMs` it sweeps expired keys and holds each plugin's namespace to
 * `store.maxKeysPerPlugin` keys, evicting those closest to expiry a bounded batch per turn, so a
 * plugin that keeps a key per event cannot grow the file the inbox needs without limit. Nothing
 * runs on the per-event path: the counts it reads are kept by the schema's triggers.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KvUpkeep } from '../store/kv-upkeep.js';

/**
 * Most keys evicted per turn, so one turn never holds the write lock (and the event loop) long: a
 * batch walks the expiry index and deletes at random places in the table (15–18 ms per 500 keys
 * of one plugin among four of 100 000 each, on a 2-core box loaded ~5 deep; the inbox's pruning
 * batch is as large). The rest follows on the next turns.
 */
export const EVICT_BATCH = 500;

/**
 * Most expired keys swept per turn, for the same reason: one sweep of 100 000 expired keys in a
 * single call held the event loop for 620–690 ms on a 2-core box running at a third of its speed
 * (a plugin keeping a key per event with a TTL expires that many every few seconds at the
 * ceiling), where the read loop must keep reading frames and answering heartbeats.
 */
export const SWEEP_BATCH = 500;

/** Most expired keys one pass sweeps; the rest waits for the next pass. */
const SWEEP_MAX = 100_000;

/** The upkeep's settings (`config.store`). */
export interface StoreUpkeepOptions {
  /** Most keys one namespace keeps past an upkeep pass. */
  readonly maxKeysPerPlugin: number;
  /** Time between two passes, ms. */
  readonly upkeepIntervalMs: number;
}

/** The periodic sweep and key cap of the plugin stores. */
export class StoreUpkeep {
  private readonly timer: NodeJS.Timeout;
  /** Namespaces over the cap at the last pass, with the keys evicted since they went over. */
  private readonly over = new Map<string, number>();
  /** The pass under way (its sweep and eviction go on over several turns), settled when it ends. */
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly kv: KvUpkeep,
    private readonly opts: StoreUpkeepOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.timer = setInterval(() => void this.pass(), opts.upkeepIntervalMs).unref();
  }

  /** Stop: no pass starts, and a sweep or eviction under way stops before its next batch. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /**
   * One pass (the timer runs one every `upkeepIntervalMs`): sweep, count, then evict past the cap,
   * a batch per turn. Settles when it has ended (a pass started while one is still under way
   * settles with that one). Never rejects: failures are logged and counted.
   */
  pass(): Promise<void> {
    // a pass under way counts when its sweep is done; the next pass counts again
    if (this.running) return this.running;
    if (this.closed) return Promise.resolve();
    const running = this.run().finally(() => {
      this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private async run(): Promise<void> {
    await this.sweep();
    if (this.closed) return;
    const counts = this.counts();
    if (!counts) return;
    const max = this.opts.maxKeysPerPlugin;
    const due = [...counts].filter(([, keys]) => keys > max).map(([ns, keys]) => ({ ns, left: keys - max }));
    this.follow(counts);
    if (due.length === 0) return;
    await new Promise<void>((resolve) => this.evictBatch(due, resolve));
  }

  /** Delete expired keys, {@link SWEEP_BATCH} per turn, up to {@link SWEEP_MAX}. */
  private async sweep(): Promise<void> {
    try {
      for (let swept = 0; swept < SWEEP_MAX && !this.closed; ) {
        const n = this.kv.sweepExpired(SWEEP_BATCH);
        swept += n;
        if (n < SWEEP_BATCH) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      reportError(this.log, this.metrics, 'CORE_ERR_PLUGIN_STORE_FAILED', 'store sweep failed', {
        reason: errorMessage(err),
      });
    }
  }

  /** The key counts, also shown as the gauge; undefined (reported) when they cannot be read. */
  private counts(): Map<string, number> | undefined {
    try {
      const counts = this.kv.keyCounts();
      // reset: a namespace whose last key went leaves the gauge
      this.metrics.pluginStoreKeys.reset();
      for (const [ns, keys] of counts) this.metrics.pluginStoreKeys.set({ plugin: ns }, keys);
      return counts;
    } catch (err) {
      reportError(this.log, this.metrics, 'CORE_ERR_PLUGIN_STORE_FAILED', 'store key count failed', {
        reason: errorMessage(err),
      });
      return undefined;
    }
  }

  /**
   * Log when a namespace goes over the cap (once, until a pass finds it within the cap again:
   * a plugin that keeps adding keys stays over from pass to pass) and when it is back within.
   */
  private follow(counts: ReadonlyMap<string, number>): void {
    const max = this.opts.maxKeysPerPlugin;
    for (const [ns, keys] of counts) {
      if (keys <= max || this.over.has(ns)) continue;
      this.over.set(ns, 0);
      const fields = { plugin: ns, keys, maxKeys: max };
      const msg = 'plugin store over its key cap: evicting the keys closest to expiry';
      reportError(this.log, this.metrics, 'CORE_ERR_PLUGIN_STORE_KEYS_CAPPED', msg, fields);
    }
    for (const [ns, evicted] of this.over) {
      const keys = counts.get(ns) ?? 0;
      if (keys > max) continue;
      this.over.delete(ns);
      this.log.info({ plugin: ns, keys, maxKeys: max, evicted }, 'plugin store back within its key cap');
    }
  }

  /** Evict one batch of the first namespace due, then go on at the next turn until none is due. */
  private evictBatch(due: { ns: string; left: number }[], done: () => void): void {
    const head = due[0];
    if (this.closed || !head) {
      if (!this.closed) this.counts();
      done();
      return;
    }
    try {
      const batch = Math.min(head.left, EVICT_BATCH);
      const evicted = this.kv.evict(head.ns, batch);
      this.over.set(head.ns, (this.over.get(head.ns) ?? 0) + evicted);
      this.metrics.pluginStoreKeysEvicted.inc({ plugin: head.ns }, evicted);
      head.left -= evicted;
      // fewer than asked: the namespace holds no more (its keys deleted meanwhile)
      if (head.left <= 0 || evicted < batch) due.shift();
    } catch (err) {
      // the write lock not granted, a full disk: the next pass tries again
      due.length = 0;
      reportError(this.log, this.metrics, 'CORE_ERR_PLUGIN_STORE_FAILED', 'store eviction failed', {
        plugin: head.ns,
        reason: errorMessage(err),
      });
    }
    setImmediate(() => this.evictBatch(due, done));
  }
}
