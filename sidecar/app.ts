/**
 * The composition root: builds one sidecar from a frozen config — DI container, plugin host,
 * relay client, inbox + delivery, agent API — starts it, and stops it within a budget.
 */
import type { PauseMeter } from '../core/di/pause-meter.js';
import 'reflect-metadata';
import { resolve } from 'node:path';
import { validateConfig } from '../core/config/load.js';
import type { Config } from '../core/config/schema.js';
import { type Clock, heldClock, systemClock } from '../core/di/clock.js';
import { createContainer } from '../core/di/container.js';
import { armDeadline } from '../core/di/deadline.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log/logger.js';
import { Metrics } from '../core/metrics/metrics.js';
import { PluginHost } from '../core/plugin-host/plugin-host.js';
import { DataDirLock } from '../core/store/data-dir-lock.js';
import { RelayClient, type RelayState, type SocketFactory } from '../core/transport/relay-client.js';
import { resolveApiToken } from './agent-api/api-token.js';
import { type AgentApi, createAgentApi } from './agent-api/server.js';
import { runResponseAction } from './delivery/response-action.js';
import { Inbox } from './inbox/inbox.js';
import { drain } from './lifecycle/drain.js';
import { bootProvision, type ProvisionedCredentials, postPolicies } from './side-routes/index.js';

/** What a sidecar is built from besides its config. */
export interface SidecarParts {
  readonly log: Logger;
  readonly metrics?: Metrics;
  readonly clock?: Clock;
  readonly socketFactory?: SocketFactory;
  /** Skip boot provisioning and the policy POST (tests, demo). Default false. */
  readonly offline?: boolean;
}

/** A running sidecar. */
export class Sidecar {
  private stopping: Promise<void> | undefined;
  private readonly startedAt: number;

  private constructor(
    readonly config: Config,
    readonly log: Logger,
    readonly metrics: Metrics,
    readonly client: RelayClient,
    readonly plugins: PluginHost,
    readonly inbox: Inbox,
    readonly api: AgentApi,
    readonly apiToken: string,
    private readonly clock: Clock,
    private readonly lock: DataDirLock,
  ) {
    this.startedAt = clock.now();
  }

  /**
   * Build and start a sidecar. Throws a RelayError (bad manifest, unusable data dir or token,
   * API address in use) before anything dials; after that, failures are states, not throws.
   * A start step that fails closes what the earlier steps opened (API server, inbox, pool,
   * client timers) before the error is thrown, so nothing keeps the process alive after it.
   */
  static async start(initial: Config, parts: SidecarParts): Promise<Sidecar> {
    // one sidecar per data directory, taken before anything opens the store (exit 2 when held)
    const lock = DataDirLock.acquire(resolve(initial.dataDir));
    try {
      return await Sidecar.startLocked(initial, parts, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private static async startLocked(
    initial: Config,
    parts: SidecarParts,
    lock: DataDirLock,
  ): Promise<Sidecar> {
    const log = parts.log;
    const metrics = parts.metrics ?? new Metrics({ defaultMetrics: true });
    const clock = parts.clock ?? systemClock;
    const creds = parts.offline ? undefined : await bootProvision(initial, log, { metrics });
    const config = creds ? withCredentials(initial, creds) : initial;

    const di = createContainer({ config, log, metrics, clock, socketFactory: parts.socketFactory });
    const plugins = await PluginHost.load({
      manifestPath: resolve(config.pluginsPath),
      config,
      log,
      metrics,
      identities: config.relay.identities,
    });
    const client = di.resolve(RelayClient);
    let api: AgentApi | undefined;
    let inbox: Inbox | undefined;
    try {
      const token = resolveApiToken(config, log);
      // a response action that met no connection waits for one as long as a call for its result
      const waitMs = config.relay.outboundTimeoutMs;
      const actionLog = log.child({ component: 'action-runner' });
      inbox = Inbox.open({
        config,
        log,
        metrics,
        clock,
        plugins,
        apiToken: token,
        ack: (bufferId) => client.ackInbound(bufferId),
        // the API exists before the first delivery: the scheduler starts below
        executeAction: (raw, attempt) =>
          runResponseAction(
            { execute: api!.executeAction, relay: client, waitMs, log: actionLog },
            raw,
            attempt,
          ),
      });
      api = createAgentApi({ config, log, metrics, client, plugins, inbox, pull: inbox.pull, token, clock });
      await api.listen();
      client.setRoutes(inbox.routes);
      inbox.onBackpressure((paused) => client.pauseReading(paused));
      const sidecar = new Sidecar(config, log, metrics, client, plugins, inbox, api, token, clock, lock);
      inbox.start();
      client.start();
      if (!parts.offline) void postPolicies(config, log, clock.now(), { creds, metrics });
      return sidecar;
    } catch (err) {
      await abortStart(log, { client, plugins, inbox, api });
      throw err;
    }
  }

  /** Current relay state. */
  get state(): RelayState {
    return this.client.state;
  }

  /** Seconds since start. */
  uptimeS(): number {
    return (this.clock.now() - this.startedAt) / 1000;
  }

  /** Wait until the relay state is `state` (or reject after `timeoutMs`). */
  waitForState(state: RelayState, timeoutMs = 10_000): Promise<void> {
    if (this.client.state === state) return Promise.resolve();
    return new Promise((ok, fail) => {
      // a deadline, not a plain timer: a freeze fired it at the resume before the frame that
      // changed the state (a descriptor, in the kernel) was read, a false "did not become ready"
      const deadline = armDeadline(heldClock, timeoutMs, () => {
        off();
        fail(
          new Error(`relay state did not become ${state} within ${timeoutMs} ms (now ${this.client.state})`),
        );
      });
      const off = this.client.onState((s) => {
        if (s !== state) return;
        deadline.clear();
        off();
        ok();
      });
    });
  }

  /**
   * Graceful stop within `config.shutdown.budgetMs`: going_idle (bounded), drain ingest and
   * in-flight deliveries (bounded), fail pending outbound calls, close pool, socket and API.
   * Idempotent. Nothing committed to the inbox is lost: it is redelivered on the next start.
   * `meter`: the clock of the budget, less the process's pauses (default: the drain's own).
   */
  stop(meter?: PauseMeter): Promise<void> {
    // the data directory is free for the next sidecar once everything here has closed
    this.stopping ??= drain(this, this.config.shutdown.budgetMs, meter).finally(() => this.lock.release());
    return this.stopping;
  }
}

/**
 * Undo a start that failed part way: close, with no grace, whatever was opened (the API server,
 * the inbox with its store and scheduler, the client's timers, the pool). Nothing was delivered
 * or dialed for long, and what the inbox holds is redelivered on the next start. Never throws:
 * the start's own error is the one to report; a close that fails is only logged.
 */
async function abortStart(
  log: Logger,
  opened: { client: RelayClient; plugins: PluginHost; inbox: Inbox | undefined; api: AgentApi | undefined },
): Promise<void> {
  const steps: [string, () => Promise<void> | undefined][] = [
    ['api', () => opened.api?.close(0)],
    ['inbox', () => opened.inbox?.close(0)],
    ['socket', () => opened.client.stop()],
    ['plugins', () => opened.plugins.close()],
  ];
  for (const [step, close] of steps) {
    try {
      await close();
    } catch (err) {
      log.warn({ step, error: errorMessage(err) }, 'start clean-up step failed');
    }
  }
}

/** The config with credentials obtained by boot provisioning (process memory only). */
function withCredentials(config: Config, creds: ProvisionedCredentials): Config {
  const plain = JSON.parse(JSON.stringify(config)) as Record<string, Record<string, unknown>>;
  plain.relay = { ...plain.relay, gatewayId: creds.gatewayId, secret: creds.secret };
  if (creds.deliveryKey) plain.relay.deliveryKey = creds.deliveryKey;
  return validateConfig(plain);
}
