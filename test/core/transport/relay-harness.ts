/**
 * Test harness of the relay client: a real DevConnector on loopback, a RelayClient resolved
 * through a tsyringe child container (so the @inject wiring is exercised), a log sink and a fresh
 * metrics registry. Every resource is released by `t.teardown`.
 */
import 'reflect-metadata';
import { createServer as createHttpServer } from 'node:http';
import type { ExecutionContext } from 'ava';
import { container } from 'tsyringe';
import type { Config } from '../../../core/config/schema.js';
import { type Clock, systemClock } from '../../../core/di/clock.js';
import { CLOCK, CONFIG, LOGGER, METRICS, SOCKET_FACTORY } from '../../../core/di/tokens.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import type { IncomingOf } from '../../../core/protocol/frames.js';
import {
  defaultSocketFactory,
  type InboundRoutes,
  RelayClient,
  type RelayState,
  type SocketFactory,
} from '../../../core/transport/relay-client.js';
import {
  DevConnector,
  type DevConnectorOptions,
  type RecordedFrame,
} from '../../../sidecar/dev-connector/index.js';
import { createLogSink, type LogSink } from '../../helpers/log-sink.js';
import { testConfig } from '../../helpers/test-config.js';

/** Frames the pipeline routes received, by type. */
export interface RouteLog {
  inbound: IncomingOf<'inbound'>[];
  passthrough_forward: IncomingOf<'passthrough_forward'>[];
  interrupt_inbound: IncomingOf<'interrupt_inbound'>[];
  poison: { bufferId: string; code: string; reason: string; type?: string }[];
}

/** What a test gets. */
export interface Harness {
  readonly dc: DevConnector;
  readonly client: RelayClient;
  readonly sink: LogSink;
  readonly metrics: Metrics;
  readonly config: Config;
  readonly routed: RouteLog;
  /** Every state the client entered, in order. */
  readonly states: RelayState[];
  /** Frames the connector received (`dir: 'in'`) of `type`. */
  received(type: string): RecordedFrame[];
  /** Resolve once the client is in `state`. */
  waitState(state: RelayState, timeoutMs?: number): Promise<void>;
}

/** Harness options. */
export interface HarnessOptions {
  readonly dc?: DevConnectorOptions;
  /** Nested config overrides (merged over the test timings; `relay.url` is set for you). */
  readonly config?: Record<string, unknown>;
  /** Replace the pipeline routes (default: record into `routed`). */
  readonly routes?: Partial<InboundRoutes>;
  readonly socketFactory?: SocketFactory;
  readonly clock?: Clock;
  /** Do not call `start()`. */
  readonly noStart?: boolean;
}

/**
 * Timeouts a test does not exercise are relaxed so a loaded CI machine cannot trip them (a
 * spurious reconnect would break "one connection" assertions); tests of a timeout set it short.
 */
export const RELAXED = {
  handshakeTimeoutMs: 3_000,
  pongTimeoutMs: 3_000,
  outboundTimeoutMs: 3_000,
  goingIdleTimeoutMs: 3_000,
};

/** Start a connector and a client wired to it. */
export async function startHarness(t: ExecutionContext, options: HarnessOptions = {}): Promise<Harness> {
  const dc = await DevConnector.start(options.dc);
  t.teardown(() => dc.close());
  const relayOverrides = (options.config?.relay ?? {}) as Record<string, unknown>;
  const config = testConfig({ ...options.config, relay: { url: dc.url, ...RELAXED, ...relayOverrides } });
  const sink = createLogSink();
  const metrics = new Metrics();
  const child = container.createChildContainer();
  child.registerInstance(CONFIG, config);
  child.registerInstance(LOGGER, sink.logger);
  child.registerInstance(METRICS, metrics);
  child.registerInstance(CLOCK, options.clock ?? systemClock);
  child.registerInstance(SOCKET_FACTORY, options.socketFactory ?? defaultSocketFactory);
  const client = child.resolve(RelayClient);
  t.teardown(() => client.stop());
  const routed: RouteLog = { inbound: [], passthrough_forward: [], interrupt_inbound: [], poison: [] };
  client.setRoutes({
    inbound: (f) => routed.inbound.push(f),
    passthrough_forward: (f) => routed.passthrough_forward.push(f),
    interrupt_inbound: (f) => routed.interrupt_inbound.push(f),
    poison: (info) => routed.poison.push(info),
    ...options.routes,
  });
  const states: RelayState[] = [];
  client.onState((s) => states.push(s));
  if (!options.noStart) client.start();
  return {
    dc,
    client,
    sink,
    metrics,
    config,
    routed,
    states,
    received: (type) => dc.frames.filter((f) => f.dir === 'in' && f.frame.type === type),
    waitState: (state, timeoutMs = 10_000) =>
      waitUntil(() => client.state === state, timeoutMs, `state ${state}`),
  };
}

/** Poll `cond` every 5 ms; reject after `timeoutMs`. */
export async function waitUntil(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolve after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A failure repeated at every backoff step is counted every time but logged as a warning only at
 * the first of the run and every tenth (pino levels: 40 warn, 20 debug); `lines` are its first 12.
 */
export function assertWarnsFirstAndEveryTenth(
  t: ExecutionContext,
  lines: readonly Record<string, unknown>[],
): void {
  t.deepEqual(
    lines.map((l) => l.failedBefore),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  );
  t.deepEqual(
    lines.map((l) => l.level),
    lines.map((l) => ((l.failedBefore as number) % 10 === 0 ? 40 : 20)),
  );
}

/** A plain HTTP server on loopback answering every WebSocket upgrade with `HTTP/1.1 <answer>`; its port. */
export async function upgradeAnswering(t: ExecutionContext, answer: string): Promise<number> {
  const server = createHttpServer();
  server.on('upgrade', (_req, socket) => {
    // node removes its own 'error' listener from an upgraded socket: a client that resets it
    // (the sidecar gives up on the answer) was an uncaught ECONNRESET that failed the test file
    socket.on('error', () => {});
    socket.end(`HTTP/1.1 ${answer}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as { port: number }).port;
}

/** A valid `send` action to `chat`, as the outbound tests pass it to the client. */
export const send = (chat = 'c1') => ({
  op: 'send',
  chat_id: chat,
  content: 'hi',
  reply_to: null,
  metadata: {},
});
