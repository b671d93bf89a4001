import { Writable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { deepMerge, validateConfig } from '../../../core/config/load.js';
import type { ConfigInput } from '../../../core/config/schema.js';
import { createLogger } from '../../../core/log/logger.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import type { PluginDefinition } from '../../../core/plugin-host/define-plugin.js';
import { type Action, type OutboundResult, SYNTHESISED } from '../../../core/protocol/actions.js';
import { type Descriptor, DescriptorSchema, opAllowed } from '../../../core/protocol/payloads.js';
import type {
  ApiDeps,
  ApiPullDelivery,
  ApiRelayClient,
  DeliveryStream,
  OutboundTags,
  RelayState,
} from '../../../sidecar/agent-api/deps.js';
import { type AgentApi, createAgentApi } from '../../../sidecar/agent-api/server.js';
import { tempDir as tempDirOf } from '../../helpers/temp-dir.js';
import { InProcessPluginHost } from './in-process-plugin-host.js';

/** The token every harness server uses (tests that need another pass their own). */
export const TEST_TOKEN = 'test-token-0123456789abcdef';
/** When the harness's inbox says the push agent became unreachable (its status `agent`). */
export const AGENT_DOWN_SINCE = '2026-01-02T03:04:05.000Z';

/** A descriptor as the connector would send it. */
export function descriptor(platform: string, supportedOps: string[] = []): Descriptor {
  return DescriptorSchema.parse({
    contract_version: 1,
    platform,
    label: `${platform} label`,
    max_message_length: 2000,
    supports_draft_streaming: false,
    supports_edit: true,
    supports_threads: true,
    markdown_dialect: 'discord',
    len_unit: 'chars',
    supported_ops: supportedOps,
  });
}

/** An in-test relay client: state and descriptors are set by the test; sends are recorded. */
export class TestRelayClient implements ApiRelayClient {
  state: RelayState = 'ready';
  readonly descriptorMap = new Map<string, Descriptor>();
  readonly sent: { action: Action; tags: OutboundTags }[] = [];
  readonly interrupts: { sessionKey: string; reason: string | null }[] = [];
  /** What `send` answers while ready; a test may replace it (e.g. to block). */
  reply: (action: Action) => Promise<OutboundResult> = async () => ({ success: true, message_id: 'm-1' });

  descriptors(): ReadonlyMap<string, Descriptor> {
    return this.descriptorMap;
  }
  opAllowed(op: string, platform?: string): boolean {
    const d = (platform && this.descriptorMap.get(platform)) || [...this.descriptorMap.values()][0];
    return d ? opAllowed(d, op) : false;
  }
  async send(action: Action, tags: OutboundTags): Promise<OutboundResult> {
    if (this.state !== 'ready') return SYNTHESISED.notConnected();
    this.sent.push({ action, tags });
    return this.reply(action);
  }
  async getChatInfo(chatId: string): Promise<{ name: string; type: string }> {
    return { name: `name of ${chatId}`, type: 'group' };
  }
  interrupt(sessionKey: string, reason: string | null): boolean {
    if (this.state !== 'ready') return false;
    this.interrupts.push({ sessionKey, reason });
    return true;
  }
}

/** A pull-delivery stand-in: records attached streams and answers acks for known ids. */
export class TestPullDelivery implements ApiPullDelivery {
  readonly attached: { stream: DeliveryStream; lastEventId: string | undefined }[] = [];
  readonly outstanding = new Set<string>();
  onAttach: (stream: DeliveryStream) => void = () => {};

  attach(stream: DeliveryStream, lastEventId?: string): void {
    this.attached.push({ stream, lastEventId });
    this.onAttach(stream);
  }
  ack(id: string): 'acked' | 'unknown' {
    return this.outstanding.delete(id) ? 'acked' : 'unknown';
  }
}

/** A running harness. */
export interface Harness {
  readonly api: AgentApi;
  readonly base: string;
  readonly token: string;
  readonly client: TestRelayClient;
  readonly host: InProcessPluginHost;
  readonly pull: TestPullDelivery;
  readonly metrics: Metrics;
  readonly dataDir: string;
  /** Parsed log lines written so far. */
  logs(): Record<string, unknown>[];
  /** Raw log text written so far. */
  logText(): string;
  /** fetch `path` with the bearer token (unless `headers.authorization` is given). */
  call(path: string, init?: RequestInit): Promise<Response>;
}

/** Options of {@link startApi}. */
export interface HarnessOptions {
  readonly config?: ConfigInput & Record<string, unknown>;
  readonly plugins?: readonly PluginDefinition[];
  readonly deps?: Partial<ApiDeps>;
  /** Default true; false ⇒ not bound (tests of listen itself). */
  readonly listen?: boolean;
}

/** A temporary directory removed at teardown. */
export function tempDir(t: ExecutionContext, prefix = 'agent-api-'): string {
  return tempDirOf(t, prefix);
}

/** A log sink: a pino destination whose lines are kept for parsing. */
export function logSink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

/** Start a harness server on 127.0.0.1:0 (pull mode unless the config says otherwise). */
export async function startApi(t: ExecutionContext, options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = tempDir(t);
  const config = validateConfig(
    deepMerge(
      {
        api: { listen: '127.0.0.1:0', token: TEST_TOKEN },
        agent: { mode: 'pull' },
        dataDir,
        shutdown: { budgetMs: 200 },
      },
      (options.config ?? {}) as Record<string, unknown>,
    ),
  );
  const sink = logSink();
  const log = createLogger({ level: 'debug', destination: sink.stream });
  const metrics = new Metrics();
  const client = new TestRelayClient();
  client.descriptorMap.set('discord', descriptor('discord'));
  const host = new InProcessPluginHost(options.plugins ?? [], config.relay.identities);
  const pull = new TestPullDelivery();
  const token = config.api.token ?? TEST_TOKEN;
  const api = createAgentApi({
    config,
    log,
    metrics,
    client,
    plugins: host,
    inbox: {
      stats: () => ({
        pending: 2,
        oldest_age_s: 7,
        inflight: 1,
        delivered: 5,
        dead: 0,
        dead_letters: [],
        agent: {
          reachable: false,
          unreachable_since: AGENT_DOWN_SINCE,
          reason: 'HTTP 503',
          failed_probes: 2,
        },
      }),
    },
    pull,
    token,
    ...options.deps,
  });
  t.teardown(() => api.close(200));
  let base = '';
  if (options.listen !== false) {
    const bound = await api.listen();
    if (bound.kind === 'tcp') base = `http://127.0.0.1:${bound.port}`;
  }
  const logs = () =>
    sink
      .text()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const call = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    return fetch(`${base}${path}`, { ...init, headers });
  };
  return { api, base, token, client, host, pull, metrics, dataDir, logs, logText: sink.text, call };
}

/** POST JSON with the harness token. */
export function postJson(h: Harness, path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return h.call(path, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
  });
}
