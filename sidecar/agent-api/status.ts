/**
 * `GET /v1/status`: the sidecar's state in the shape of agent-api.md. Built only from public
 * facts — never a secret (no relay secret, no tokens, no plugin options).
 */
import type { Config } from '../../core/config/schema.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { Descriptor } from '../../core/protocol/payloads.js';
import type { ApiInbox, ApiPluginHost, ApiRelayClient, InboxStats, PoolStats, RelayState } from './deps.js';

/** The `/v1/status` body. */
export interface StatusBody {
  readonly state: RelayState;
  readonly gateway_id: string | null;
  readonly identities: readonly { platform: string; botId: string }[];
  /** Descriptors of the current (or last) connection, by platform. */
  readonly descriptors: Readonly<Record<string, Descriptor>>;
  readonly uptime_s: number;
  /** Push: the agent's reachability (`reachable`, `unreachable_since`, `reason`, …); pull: null. */
  readonly agent: object | null;
  readonly inbox: InboxStats;
  readonly plugins: readonly Record<string, unknown>[];
  readonly pool: PoolStats;
  readonly counters: Readonly<Record<string, number>>;
}

/** Status counters: the name in the body ⇒ the Prometheus counter summed over its labels. */
export const STATUS_COUNTERS: Readonly<Record<string, string>> = {
  frames_in: 'relay_frames_in_total',
  frames_out: 'relay_frames_out_total',
  frames_malformed: 'relay_frames_malformed_total',
  frames_ignored: 'relay_frames_ignored_total',
  reconnects: 'relay_reconnects_total',
  inbound_acks: 'relay_inbound_acks_total',
  duplicates: 'relay_duplicates_total',
  outbound_results: 'relay_outbound_results_total',
  deliveries: 'relay_deliveries_total',
  delivery_retries: 'relay_delivery_retries_total',
  plugin_failures: 'relay_plugin_failures_total',
  plugin_dropped: 'relay_plugin_dropped_total',
  forwards_dropped: 'relay_forwards_dropped_total',
  errors: 'relay_errors_total',
};

/** What the status needs. */
export interface StatusSources {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly client: ApiRelayClient;
  readonly plugins: ApiPluginHost;
  readonly inbox: ApiInbox;
  readonly now: number;
  readonly startedAtMs: number;
}

/** Build the status body. */
export async function buildStatus(src: StatusSources): Promise<StatusBody> {
  const [{ agent = null, ...inbox }, pool, counters] = await Promise.all([
    src.inbox.stats(),
    src.plugins.stats(),
    readCounters(src.metrics),
  ]);
  return {
    state: src.client.state,
    gateway_id: src.config.relay.gatewayId ?? null,
    identities: src.config.relay.identities.map((i) => ({ platform: i.platform, botId: i.botId })),
    descriptors: Object.fromEntries(src.client.descriptors()),
    uptime_s: Math.max(0, Math.floor((src.now - src.startedAtMs) / 1000)),
    agent,
    inbox,
    plugins: src.plugins.plugins.map(publicPluginInfo),
    pool: { threads: pool.threads, queued: pool.queued, completed: pool.completed, failed: pool.failed },
    counters,
  };
}

async function readCounters(metrics: Metrics): Promise<Record<string, number>> {
  const entries = await Promise.all(
    Object.entries(STATUS_COUNTERS).map(async ([key, name]) => [key, await metrics.value(name)] as const),
  );
  return Object.fromEntries(entries);
}

// keys that may hold configuration or credentials: never shown, whatever the plugin host puts there
const HIDDEN_KEY = /options|secret|token|password|credential|key|auth/i;

/**
 * A plugin's public facts: scalars, lists of scalars and small nested objects of those (name,
 * version, enabled, hooks, ops, platforms …). Options and anything named like a credential are
 * left out, whatever the plugin host reports.
 */
export function publicPluginInfo(info: object, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(info)) {
    if (HIDDEN_KEY.test(key)) continue;
    if (isScalar(value) || (Array.isArray(value) && value.every(isScalar))) out[key] = value;
    else if (depth < 2 && isPlainObject(value)) out[key] = publicPluginInfo(value, depth + 1);
  }
  return out;
}

const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const isPlainObject = (v: unknown): v is object =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
