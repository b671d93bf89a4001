/**
 * The plugin stores' upkeep on the main thread (docs/decisions.md, "A cap on each plugin's keys",
 * "… and on its bytes"): every `store.upkeepIntervalMs` it sweeps expired keys and holds each
 * plugin's namespace to `store.maxKeysPerPlugin` keys and `store.maxBytesPerPlugin` bytes,
 * evicting the keys closest to expiry a bounded batch per turn, so a plugin that keeps a key per
 * event, or large values, cannot grow the file the inbox needs without limit. Nothing runs on the
 * per-event path: the counts it reads are kept by the schema's triggers.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KvUpkeep, NamespaceSize } from '../store/kv-upkeep.js';

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

/**
 * The `plugin` label of the store metrics for every namespace no manifest entry names (a plugin
 * since removed, or one a store file brought along): summed under one series, so the table's
 * contents cannot grow the series set. No plugin can be named so (names start with a letter, a
 * digit or `@`), where `other`, the bounded labels' word, is a valid plugin name.
 */
export const OTHER_NAMESPACES = '(other)';

/** The upkeep's settings (`config.store`). */
export interface StoreUpkeepOptions {
  /** Most keys one namespace keeps past an upkeep pass. */
  readonly maxKeysPerPlugin: number;
  /** Most bytes (UTF-8, keys and values) one namespace keeps past an upkeep pass. */
  readonly maxBytesPerPlugin: number;
  /** Time between two passes, ms. */
  readonly upkeepIntervalMs: number;
}

/** One cap, as the upkeep follows it: what it measures, its limit, how its episodes are told. */
interface Cap {
  readonly name: 'keys' | 'bytes';
  readonly max: number;
  readonly code: 'CORE_ERR_PLUGIN_STORE_KEYS_CAPPED' | 'CORE_ERR_PLUGIN_STORE_BYTES_CAPPED';
  /** The warning when a namespace goes over, and the info line when it is back within. */
  readonly over: string;
  readonly back: string;
  /** The fields of both lines: the namespace's size against the cap. */
  fields(size: NamespaceSize): Record<string, number>;
}

/** A namespace due for eviction: what it must still free. */
interface Due {
  readonly ns: string;
  keys: number;
  bytes: number;
}

/** The periodic sweep and caps of the plugin stores. */
export class StoreUpkeep {
  private readonly timer: NodeJS.Timeout;
  private readonly caps: readonly Cap[];
  private readonly plugins: ReadonlySet<string>;
  /**
   * Per cap, the namespaces over it at the last pass, with the keys evicted since they went over:
   * an episode, warned about once.
   */
  private readonly over = new Map<Cap, Map<string, number>>();
  /** The pass under way (its sweep and eviction go on over several turns), settled when it ends. */
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly kv: KvUpkeep,
    private readonly opts: StoreUpkeepOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** The manifest's plugin names (disabled ones included): the `plugin` labels the metrics use. */
    plugins: Iterable<string>,
  ) {
    this.plugins = new Set(plugins);
    const { maxKeysPerPlugin: maxKeys, maxBytesPerPlugin: maxBytes } = opts;
    this.caps = [
      {
        name: 'keys',
        max: maxKeys,
        code: 'CORE_ERR_PLUGIN_STORE_KEYS_CAPPED',
        over: 'plugin store over its key cap: evicting the keys closest to expiry',
        back: 'plugin store back within its key cap',
        fields: ({ keys }) => ({ keys, maxKeys }),
      },
      {
        name: 'bytes',
        max: maxBytes,
        code: 'CORE_ERR_PLUGIN_STORE_BYTES_CAPPED',
        over: 'plugin store over its byte cap: evicting the keys closest to expiry',
        back: 'plugin store back within its byte cap',
        fields: ({ keys, bytes }) => ({ keys, bytes, maxBytes }),
      },
    ];
    for (const cap of this.caps) this.over.set(cap, new Map());
    this.timer = setInterval(() => void this.pass(), opts.upkeepIntervalMs).unref();
  }

  /** Stop: no pass starts, and a sweep or eviction under way stops before its next batch. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /**
   * One pass (the timer runs one every `upkeepIntervalMs`): sweep, count, then evict past the caps,
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
    const { maxKeysPerPlugin: maxKeys, maxBytesPerPlugin: maxBytes } = this.opts;
    // what this pass frees is what was over when it counted: keys added meanwhile wait for the next
    const due = [...counts]
      .map(([ns, size]) => ({ ns, keys: size.keys - maxKeys, bytes: size.bytes - maxBytes }))
      .filter((d) => d.keys > 0 || d.bytes > 0);
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

  /** The counts, also shown as the gauges; undefined (reported) when they cannot be read. */
  private counts(): Map<string, NamespaceSize> | undefined {
    try {
      const counts = this.kv.counts();
      const shown = new Map<string, { keys: number; bytes: number }>();
      for (const [ns, size] of counts) {
        const label = this.labelOf(ns);
        const sum = shown.get(label) ?? { keys: 0, bytes: 0 };
        shown.set(label, { keys: sum.keys + size.keys, bytes: sum.bytes + size.bytes });
      }
      // reset: a namespace whose last key went leaves the gauges
      this.metrics.pluginStoreKeys.reset();
      this.metrics.pluginStoreBytes.reset();
      for (const [plugin, size] of shown) {
        this.metrics.pluginStoreKeys.set({ plugin }, size.keys);
        this.metrics.pluginStoreBytes.set({ plugin }, size.bytes);
      }
      return counts;
    } catch (err) {
      reportError(this.log, this.metrics, 'CORE_ERR_PLUGIN_STORE_FAILED', 'store key count failed', {
        reason: errorMessage(err),
      });
      return undefined;
    }
  }

  /**
   * Log when a namespace goes over a cap (once, until a pass finds it within that cap again: a
   * plugin that keeps adding keys stays over from pass to pass) and when it is back within. Each
   * cap has its own episodes and code: a plugin over both is warned about each once.
   */
  private follow(counts: ReadonlyMap<string, NamespaceSize>): void {
    for (const cap of this.caps) {
      const over = this.over.get(cap) as Map<string, number>;
      for (const [ns, size] of counts) {
        if (size[cap.name] <= cap.max || over.has(ns)) continue;
        over.set(ns, 0);
        reportError(this.log, this.metrics, cap.code, cap.over, { plugin: ns, ...cap.fields(size) });
      }
      for (const [ns, evicted] of over) {
        const size = counts.get(ns) ?? { keys: 0, bytes: 0 };
        if (size[cap.name] > cap.max) continue;
        over.delete(ns);
        this.log.info({ plugin: ns, ...cap.fields(size), evicted }, cap.back);
      }
    }
  }

  /** The metrics' `plugin` label of namespace `ns`. */
  private labelOf(ns: string): string {
    return this.plugins.has(ns) ? ns : OTHER_NAMESPACES;
  }

  /** Evict one batch of the first namespace due, then go on at the next turn until none is due. */
  private evictBatch(due: Due[], done: () => void): void {
    const head = due[0];
    if (this.closed || !head) {
      if (!this.closed) this.counts();
      done();
      return;
    }
    try {
      const want = { keys: Math.max(0, head.keys), bytes: Math.max(0, head.bytes) };
      const freed = this.kv.evict(head.ns, EVICT_BATCH, want);
      for (const over of this.over.values()) {
        const evicted = over.get(head.ns);
        if (evicted !== undefined) over.set(head.ns, evicted + freed.keys);
      }
      this.metrics.pluginStoreKeysEvicted.inc({ plugin: this.labelOf(head.ns) }, freed.keys);
      head.keys -= freed.keys;
      head.bytes -= freed.bytes;
      // fewer than a batch short of the goal: the namespace holds no more (deleted meanwhile)
      const met = head.keys <= 0 && head.bytes <= 0;
      if (met || freed.keys < EVICT_BATCH) due.shift();
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
