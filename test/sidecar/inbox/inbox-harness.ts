/**
 * An inbox on real parts: a SQLite file in a temp dir, the real plugin host and piscina pool
 * (fixture plugins), a real log sink, and recorders for acks and executed actions. `reopen()`
 * closes the inbox and opens a new one on the same data directory (a restart).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Config } from '../../../core/config/schema.js';
import type { Clock } from '../../../core/di/clock.js';
import { silentLogger } from '../../../core/log/logger.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { PluginHost } from '../../../core/plugin-host/plugin-host.js';
import {
  InboundFrameSchema,
  type IncomingOf,
  PassthroughForwardFrameSchema,
} from '../../../core/protocol/frames.js';
import type { RandomSource } from '../../../core/transport/backoff.js';
import type { ExecuteAction } from '../../../sidecar/delivery/action-runner.js';
import { bufferDedupeKey } from '../../../sidecar/inbox/dedupe-key.js';
import type { IngestPlugins } from '../../../sidecar/inbox/frame-processor.js';
import { Inbox } from '../../../sidecar/inbox/inbox.js';
import { createLogSink, type LogSink } from '../../helpers/log-sink.js';
import type { Json } from '../../helpers/loopback-agent.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { removeDir } from '../../helpers/temp-dir.js';
import { testConfig } from '../../helpers/test-config.js';

/** The API token of every harness (signs push requests). */
export const TOKEN = 'test-api-token-0123456789';

/** A compiled fixture plugin module (`test/fixtures/plugins/<name>.js`). */
export function fixturePlugin(name: string): { name: string; module: string } {
  return { name, module: join(repoRoot(), 'dist', 'test', 'fixtures', 'plugins', `${name}.js`) };
}

/** One `inbound_ack` as the relay client saw it, with whether its commit was already durable. */
export interface AckRecord {
  readonly bufferId: string;
  readonly committedBefore: boolean;
}

/** Options of {@link startInbox}. */
export interface InboxHarnessOptions {
  /** Config overrides (nested form). Default mode: pull. */
  readonly config?: Record<string, unknown>;
  /** Wrap the real host (e.g. to delay or fail some calls). */
  readonly wrap?: (host: PluginHost) => IngestPlugins;
  /** Executes response actions; default: record them. */
  readonly executeAction?: ExecuteAction;
  /** Call `inbox.start()` at once; default true. */
  readonly start?: boolean;
  readonly pullKeepAliveMs?: number;
  /** What `ack` returns (false = no socket); default true. */
  readonly ackResult?: (bufferId: string) => boolean;
  /** Use this data directory (e.g. the host's, to share the store file); default a new temp dir. */
  readonly dataDir?: string;
  /** The inbox's clock; default the system clock. */
  readonly clock?: Clock;
  /** The inbox's upkeep interval, ms; default its own (5 s). */
  readonly maintenanceIntervalMs?: number;
  /** The backoffs' random source (exact delays with a manual clock); default Math.random. */
  readonly random?: RandomSource;
}

/** A running inbox and its recorders. */
export interface InboxHarness {
  readonly inbox: Inbox;
  readonly host: PluginHost;
  readonly config: Config;
  readonly sink: LogSink;
  readonly metrics: Metrics;
  readonly dataDir: string;
  readonly acks: AckRecord[];
  readonly actions: unknown[];
  /** Close this inbox and open another on the same data directory (and host); started by default. */
  reopen(options?: Pick<InboxHarnessOptions, 'config' | 'start'>): Promise<InboxHarness>;
}

/**
 * One real plugin host (pool + store in a temp dir) shared by the tests of a file: registers
 * `test.before` / `test.after.always`. Call at the top level of a test file.
 */
export function sharedHost(
  plugins: readonly { name: string; module: string; timeoutMs?: number }[] = [fixturePlugin('echo')],
): () => PluginHost {
  let host: PluginHost | undefined;
  let dir: string | undefined;
  test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-inbox-host-'));
    const manifestPath = join(dir, 'plugins.json');
    writeFileSync(manifestPath, JSON.stringify({ apiVersion: 1, plugins }));
    const config = testConfig({ dataDir: dir, pool: { minThreads: 2, maxThreads: 2 } });
    host = await PluginHost.load({ manifestPath, config, log: silentLogger(), metrics: new Metrics() });
  });
  test.after.always(async () => {
    await host?.close();
    if (dir) removeDir(dir);
  });
  return () => {
    if (!host) throw new Error('sharedHost: the host is not loaded yet');
    return host;
  };
}

/** A `wrap` that replaces only the inbound hooks; conversions go to the real host unchanged. */
export function wrapInbound(
  runInbound: (
    input: Parameters<IngestPlugins['runInbound']>[0],
    real: PluginHost,
  ) => ReturnType<IngestPlugins['runInbound']>,
): (real: PluginHost) => IngestPlugins {
  return (real) => ({
    convertForward: (f) => real.convertForward(f),
    runInbound: (input) => runInbound(input, real),
  });
}

/** Start an inbox on `host` for one test; everything is torn down with it. */
export async function startInbox(
  t: ExecutionContext,
  host: PluginHost,
  options: InboxHarnessOptions = {},
): Promise<InboxHarness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'relay-inbox-'));
  if (!options.dataDir) t.teardown(() => removeDir(dataDir));
  const sink = createLogSink();
  const plugins = options.wrap ? options.wrap(host) : host;
  const open = (opts: Pick<InboxHarnessOptions, 'config' | 'start'>): InboxHarness => {
    const config = testConfig({ dataDir, ...opts.config });
    const metrics = new Metrics();
    const acks: AckRecord[] = [];
    const actions: unknown[] = [];
    let inbox: Inbox | undefined;
    inbox = Inbox.open({
      config,
      log: sink.logger,
      metrics,
      plugins,
      apiToken: TOKEN,
      ack: (bufferId) => {
        acks.push({ bufferId, committedBefore: !!inbox?.store.dedupe.has(bufferDedupeKey(bufferId)) });
        return options.ackResult?.(bufferId) ?? true;
      },
      executeAction:
        options.executeAction ??
        (async (raw) => {
          actions.push(raw);
          return { success: true };
        }),
      ...(options.pullKeepAliveMs ? { pullKeepAliveMs: options.pullKeepAliveMs } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.maintenanceIntervalMs ? { maintenanceIntervalMs: options.maintenanceIntervalMs } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
    const opened = inbox;
    t.teardown(() => opened.close(500));
    if (opts.start ?? options.start ?? true) opened.start();
    return {
      inbox: opened,
      host,
      config,
      sink,
      metrics,
      dataDir,
      acks,
      actions,
      reopen: async (next = {}) => {
        await opened.close(0);
        return open({ config: opts.config, start: true, ...next });
      },
    };
  };
  return open({ config: { agent: { mode: 'pull' }, ...options.config } });
}

/** An `inbound` frame, parsed like the relay client does. */
export function inbound(opts: {
  text?: string;
  chat?: string;
  user?: string;
  messageId?: string;
  bufferId?: string;
  platform?: string;
}): IncomingOf<'inbound'> {
  return InboundFrameSchema.parse({
    type: 'inbound',
    event: {
      text: opts.text ?? 'hello',
      ...(opts.messageId ? { message_id: opts.messageId } : {}),
      source: {
        platform: opts.platform ?? 'telegram',
        chat_id: opts.chat ?? 'C1',
        chat_type: 'dm',
        user_id: opts.user ?? 'U1',
      },
    },
    ...(opts.bufferId ? { bufferId: opts.bufferId } : {}),
  });
}

/** A `passthrough_forward` frame with a JSON body. */
export function forward(
  platform: string,
  body: unknown,
  opts: { bufferId?: string; headers?: [string, string][] } = {},
): IncomingOf<'passthrough_forward'> {
  return PassthroughForwardFrameSchema.parse({
    type: 'passthrough_forward',
    forward: {
      platform,
      botId: 'B1',
      method: 'POST',
      path: '/webhook',
      headers: opts.headers ?? [['content-type', 'application/json']],
      bodyB64: Buffer.from(JSON.stringify(body)).toString('base64'),
    },
    ...(opts.bufferId ? { bufferId: opts.bufferId } : {}),
  });
}

/** Resolve once `predicate` holds (polled every 5 ms); reject after `timeoutMs`. */
export { until } from '../../helpers/until.js';

/** One row of `inbox_events` with its parsed envelope. */
export interface Row {
  readonly id: string;
  readonly type: string;
  readonly session_key: string;
  readonly state: string;
  readonly attempt: number;
  readonly envelope: Json;
}

/** Every row of `inbox_events`, in commit order. */
export function rows(h: InboxHarness): Row[] {
  const raw = h.inbox.store.db
    .prepare(
      `SELECT e.id, e.type, e.session_key, e.state, e.attempt, v.envelope
       FROM inbox_events e JOIN inbox_envelopes v ON v.seq = e.seq ORDER BY e.seq`,
    )
    .all() as (Omit<Row, 'envelope'> & { envelope: string })[];
  return raw.map((r) => ({ ...r, envelope: JSON.parse(r.envelope) as Json }));
}

/**
 * Config for push delivery to `url`, with a generous timeout: the machine may be busy, and a
 * timed-out attempt is retried (a duplicate).
 */
export const pushTo = (url: string, agent: Record<string, unknown> = {}) => ({
  agent: { mode: 'push', url, timeoutMs: 5_000, ...agent },
});
