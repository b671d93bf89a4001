/**
 * Prometheus metrics (prom-client) on a registry owned by one sidecar instance, so several
 * instances (tests, benchmarks) never share counters. Every failure path counts here.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The label value that stands for every value past a {@link BoundedLabel}'s limit. */
export const OTHER_LABEL = 'other';

/**
 * Label values that come from outside the sidecar (a connector's platform name, a plugin's drop
 * reason) kept to a bounded set, so no input can grow a metric's series without limit: the first
 * `max` distinct values (each cut to 64 characters) are kept, every later one is `other`.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(private readonly max = 32) {}

  /** The label for `value`. */
  of(value: string): string {
    const label = value.slice(0, 64);
    if (this.seen.has(label)) return label;
    if (this.seen.size >= this.max) return OTHER_LABEL;
    this.seen.add(label);
    return label;
  }
}

/** The process's default metrics (CPU, memory, event-loop lag, GC), collected once: see {@link Metrics}. */
let processMetrics: Registry | undefined;

function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/** All metrics of one sidecar. Names are stable: dashboards rely on them. */
export class Metrics {
  /** This instance's own metrics. */
  private readonly own = new Registry();
  /** The registry served at `/metrics`: this instance's metrics, plus the process's when asked for. */
  readonly registry: Registry;

  readonly framesIn = this.counter('relay_frames_in_total', 'Frames decoded from the connector', ['type']);
  readonly framesOut = this.counter('relay_frames_out_total', 'Frames written to the connector', ['type']);
  readonly framesMalformed = this.counter('relay_frames_malformed_total', 'Lines skipped as malformed', [
    'code',
  ]);
  readonly framesIgnored = this.counter(
    'relay_frames_ignored_total',
    'Frames ignored (unknown type, missing type, echoed sidecar type, unknown requestId, late result)',
    ['reason'],
  );
  readonly reconnects = this.counter('relay_reconnects_total', 'Dials after the first');
  readonly closes = this.counter('relay_socket_closes_total', 'Socket closes by close code', ['code']);
  /**
   * `code` of relay_socket_closes_total past the protocol's own codes (below 3000) and 4401: the
   * connector chooses them (3000–4999), bounded.
   */
  readonly closeCodes = new BoundedLabel();
  readonly state = this.gauge('relay_state', 'Relay client state (1 for the current state)', ['state']);
  readonly outboundLatency = new Histogram({
    name: 'relay_outbound_latency_seconds',
    help: 'outbound frame written → outbound_result',
    labelNames: ['op'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.own],
  });
  readonly outboundResults = this.counter('relay_outbound_results_total', 'Outbound results by outcome', [
    'outcome',
  ]);
  readonly outboundPending = this.gauge('relay_outbound_pending', 'Outbound calls awaiting a result');
  readonly inboundAcks = this.counter('relay_inbound_acks_total', 'inbound_ack frames sent');
  readonly duplicates = this.counter('relay_duplicates_total', 'Inbound deliveries dropped as duplicates');
  readonly inboxDepth = this.gauge('relay_inbox_depth', 'Events committed but not yet delivered');
  /** `part`: `file` (the store file), `wal` (its WAL), `free` (pages of the file free for reuse). */
  readonly storeBytes = this.gauge('relay_store_bytes', 'Bytes of the store on disk, by part', ['part']);
  readonly deliveryLatency = new Histogram({
    name: 'relay_delivery_latency_seconds',
    help: 'inbox commit → agent acknowledged',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [this.own],
  });
  readonly deliveries = this.counter('relay_deliveries_total', 'Delivery attempts by outcome', ['outcome']);
  readonly deliveryRetries = this.counter('relay_delivery_retries_total', 'Delivery retries');
  readonly agentUnreachable = this.gauge(
    'relay_agent_unreachable',
    'Push mode: 1 while the agent is taken for unreachable (only one probe at a time is sent)',
  );
  readonly agentOutages = this.counter(
    'relay_agent_outages_total',
    'Push mode: times the agent was found unreachable',
  );
  readonly outboxDepth = this.gauge('relay_outbox_depth', 'Push response actions stored, not yet settled');
  readonly pullStreamAttached = this.gauge(
    'relay_pull_stream_attached',
    'Pull mode: 1 while an agent event stream is attached',
  );
  readonly pullUnacked = this.gauge('relay_pull_unacked', 'Pull mode: deliveries outstanding, not yet acked');
  readonly pullStreamsReplaced = this.counter(
    'relay_pull_streams_replaced_total',
    'Pull mode: agent event streams ended by a newer one',
  );
  readonly pluginTaskDuration = new Histogram({
    name: 'relay_plugin_task_duration_seconds',
    help: 'Plugin hook task duration in the worker pool',
    labelNames: ['plugin', 'hook'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
    registers: [this.own],
  });
  readonly pluginFailures = this.counter('relay_plugin_failures_total', 'Plugin hook failures', [
    'plugin',
    'code',
  ]);
  /** `plugin`: a configured plugin's name or `unknown` (stray-log.ts), so bounded by the manifest. */
  readonly pluginStrayErrors = this.counter(
    'relay_plugin_stray_errors_total',
    'Errors plugin code raised outside any hook call (a timer, an unhandled rejection)',
    ['plugin'],
  );
  readonly pluginDropped = this.counter('relay_plugin_dropped_total', 'Events dropped by plugins', [
    'plugin',
    'reason',
  ]);
  /** `reason` of relay_plugin_dropped_total: a plugin's reason, its stable prefix, bounded. */
  readonly dropReasons = new BoundedLabel();
  /** `platform` of relay_forwards_dropped_total: the connector's platform name, bounded. */
  readonly dropPlatforms = new BoundedLabel();
  readonly forwardsDropped = this.counter(
    'relay_forwards_dropped_total',
    'Passthrough forwards dropped before conversion',
    ['platform', 'reason'],
  );
  /**
   * Keys per plugin store namespace (expired ones not yet swept included), every store upkeep
   * pass; namespaces of no manifest entry summed under `(other)`.
   */
  readonly pluginStoreKeys = this.gauge('relay_plugin_store_keys', 'Keys a plugin keeps in its store', [
    'plugin',
  ]);
  /** UTF-8 bytes of keys and values per plugin store namespace, as {@link pluginStoreKeys}. */
  readonly pluginStoreBytes = this.gauge(
    'relay_plugin_store_bytes',
    'Bytes of keys and values a plugin keeps in its store',
    ['plugin'],
  );
  readonly pluginStoreKeysEvicted = this.counter(
    'relay_plugin_store_keys_evicted_total',
    'Plugin store keys evicted past store.maxKeysPerPlugin or store.maxBytesPerPlugin',
    ['plugin'],
  );
  /** Store writes refused for their size (caught by the hook or not), by plugin and code. */
  readonly pluginStoreRefusals = this.counter(
    'relay_plugin_store_refusals_total',
    'Plugin store writes refused past store.maxKeyBytes or store.maxValueBytes',
    ['plugin', 'code'],
  );
  /**
   * `during`: `start` (before piscina had it ready: worker-starts.ts), `boot` (while importing the
   * plugins), `task` (its task reports it too) or `idle` (worker-deaths.ts): four series.
   */
  readonly poolWorkerDeaths = this.counter(
    'relay_pool_worker_deaths_total',
    'Plugin pool workers that ended without the pool ending them (out of memory, a crash, a hook calling process.exit excluded)',
    ['during'],
  );
  /** 1 from a worker's failure to start while none ran until a worker starts (worker-starts.ts), else 0. */
  readonly poolWorkerStartFailing = this.gauge(
    'relay_pool_worker_start_failing',
    'Whether a plugin pool worker failed to start while none ran, and none has started since (1) or not (0)',
  );
  readonly poolQueueDepth = this.gauge('relay_pool_queue_depth', 'Tasks waiting in the worker pool');
  readonly errors = this.counter('relay_errors_total', 'Errors logged, by stable code', ['code']);

  /**
   * @param options.defaultMetrics serve the process's default metrics too. They are collected once
   *   per process and shared: prom-client's collectors (a GC observer, an event-loop delay monitor
   *   sampling every 10 ms) cannot be stopped, so collecting them per instance kept every stopped
   *   sidecar's registry, with all its series, alive and sampled for the life of the process.
   */
  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry = options.defaultMetrics ? Registry.merge([this.own, processRegistry()]) : this.own;
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.own] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.own] });
  }

  /** Current value of a counter or gauge (summed over labels matching `labels`), for status and tests. */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const data = await metric.get();
    return data.values
      .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
