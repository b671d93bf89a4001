/**
 * The relay client: the one object the rest of the sidecar uses to talk to the connector. It
 * composes the supervisor (one connection at a time), the route table, the correlator and the
 * going-idle exchange, and turns every failure into a value: `send` never throws or rejects.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Config } from '../config/schema.js';
import type { Clock } from '../di/clock.js';
import type { PauseMeter } from '../di/pause-meter.js';
import { CLOCK, CONFIG, LOGGER, METRICS, SOCKET_FACTORY } from '../di/tokens.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Action, OutboundResult } from '../protocol/actions.js';
import { type Descriptor, opAllowed } from '../protocol/payloads.js';
import { buildRouteTable, type InboundRoutes } from '../router/inbound-routes.js';
import type { RouteTable } from '../router/route-table.js';
import { BackoffLadder } from './backoff.js';
import { Correlator } from './correlator.js';
import { dialUrl } from './dial-url.js';
import { GoingIdle } from './going-idle.js';
import { type ChatInfo, chatInfoOf, localChatInfo, type OutboundTags } from './outbound-frame.js';
import { OutboundSender } from './outbound-sender.js';
import { type RelayState, StateCell, type StateListener } from './relay-state.js';
import { SessionDialer } from './session-dialer.js';
import type { SocketFactory, SocketSession } from './socket-session.js';
import { Supervisor } from './supervisor.js';

export type { InboundRoutes } from '../router/inbound-routes.js';
export type { RelayState, StateDetail } from './relay-state.js';
export { defaultSocketFactory, type SocketFactory } from './socket-session.js';

/** How long `stop()` waits for the connector's close handshake before terminating, ms. */
export const STOP_CLOSE_GRACE_MS = 1_000;

/** The WebSocket client of the relay contract, with reconnects. */
@injectable()
export class RelayClient {
  private readonly log: Logger;
  private readonly relay: Config['relay'];
  private readonly cell: StateCell;
  private readonly correlator: Correlator;
  private readonly idle: GoingIdle;
  private readonly sender: OutboundSender;
  private readonly supervisor: Supervisor;
  private routes: InboundRoutes | undefined;
  private table: RouteTable | undefined;
  private dialer: SessionDialer | undefined;
  /** The last connection that completed a handshake: its descriptors stay readable while down. */
  private described: SocketSession | undefined;
  private stopping: Promise<void> | undefined;
  private readingPaused = false;
  private readonly ladder: BackoffLadder;

  constructor(
    @inject(CONFIG) config: Config,
    @inject(LOGGER) log: Logger,
    @inject(METRICS) private readonly metrics: Metrics,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(SOCKET_FACTORY) private readonly socketFactory: SocketFactory,
  ) {
    this.relay = config.relay;
    this.log = log.child({ component: 'relay-client' });
    this.cell = new StateCell(metrics, this.log);
    this.correlator = new Correlator(clock, metrics, this.log, {
      timeoutMs: this.relay.outboundTimeoutMs,
      maxPending: this.relay.maxPendingOutbound,
      inputProgress: () => this.supervisor.session?.bytesRead ?? 0,
    });
    this.idle = new GoingIdle(clock, this.log, metrics);
    this.sender = new OutboundSender(this.correlator, this.relay, this.log, metrics);
    this.ladder = new BackoffLadder({ baseMs: this.relay.backoffBaseMs, maxMs: this.relay.backoffMaxMs });
    this.supervisor = new Supervisor({
      clock,
      log: this.log,
      metrics,
      state: this.cell,
      ladder: this.ladder,
      stableAfterMs: this.relay.stableAfterMs,
      dial: () => this.dial(),
    });
  }

  /** Set the pipeline's routes. Once, before {@link start}. */
  setRoutes(routes: InboundRoutes): void {
    if (this.table) throw new Error('RelayClient.setRoutes must be called once, before start()');
    this.routes = routes;
  }

  /**
   * Start dialing. Idempotent.
   * @throws RelayError `CORE_ERR_CONFIG_INVALID` when `relay.url` is missing or not a valid URL.
   */
  start(): void {
    if (this.table || this.cell.final) return;
    this.dialer = new SessionDialer({
      relay: this.relay,
      url: dialUrl(this.relay.url ?? ''),
      log: this.log,
      metrics: this.metrics,
      clock: this.clock,
      socketFactory: this.socketFactory,
    });
    this.table = buildRouteTable(
      {
        descriptor: (f) => this.onDescriptor(f.descriptor),
        outbound_result: (f) => this.correlator.settle(f.requestId, f.result),
        going_idle_ack: () => {
          if (this.idle.ack(this.supervisor.session)) this.cell.set('idle');
        },
      },
      this.routes,
      this.log,
      this.metrics,
    );
    this.supervisor.start();
  }

  /** The current state. */
  get state(): RelayState {
    return this.cell.value;
  }

  /** Listen to state changes; returns the unsubscribe function. */
  onState(listener: StateListener): () => void {
    return this.cell.subscribe(listener);
  }

  /** Descriptors by platform, of the current (or last handshaken) connection. */
  descriptors(): ReadonlyMap<string, Descriptor> {
    return this.described?.descriptors ?? new Map();
  }

  /** The session-default platform: the first configured identity. */
  defaultPlatform(): string {
    return this.relay.identities[0]?.platform ?? 'relay';
  }

  /**
   * Op gating against `platform`'s descriptor. A platform without a descriptor of its own (e.g.
   * `sms` chats behind a `twilio` identity) and an untagged action use the session default: the
   * default platform's descriptor, else the first received.
   */
  opAllowed(op: string, platform?: string): boolean {
    const s = this.described;
    const d =
      (platform ? s?.descriptors.get(platform) : undefined) ??
      s?.descriptors.get(this.defaultPlatform()) ??
      s?.firstDescriptor;
    return d ? opAllowed(d, op) : false;
  }

  /** Send an action; resolves with the connector's result or a synthesised one. Never rejects. */
  send(action: Action, tags: OutboundTags = {}): Promise<OutboundResult> {
    const target = this.cell.value === 'stopped' ? 'stopped' : (this.live() ?? 'none');
    return this.sender.send(target, action, tags);
  }

  /** Name and type of a chat; answered locally when the connector does not advertise the op. */
  async getChatInfo(chatId: string): Promise<ChatInfo> {
    if (!this.opAllowed('get_chat_info')) return localChatInfo(chatId);
    // Sent without platform/botId tags, as the contract requires.
    return chatInfoOf(await this.send({ op: 'get_chat_info', chat_id: chatId }), chatId);
  }

  /** Send a fire-and-forget `interrupt`; false when not connected. */
  interrupt(sessionKey: string, reason: string | null): boolean {
    if (typeof sessionKey !== 'string' || sessionKey === '') return false;
    return this.live()?.write({ type: 'interrupt', session_key: sessionKey, reason }).ok ?? false;
  }

  /** Acknowledge a buffered delivery after durable handoff; false when not connected. */
  ackInbound(bufferId: string): boolean {
    if (typeof bufferId !== 'string' || bufferId === '') return false;
    const ok = this.live()?.write({ type: 'inbound_ack', bufferId }).ok ?? false;
    if (ok) this.metrics.inboundAcks.inc();
    return ok;
  }

  /** Ask the connector to buffer inbound; true when acked (state becomes `idle`). */
  goingIdle(timeoutMs: number = this.relay.goingIdleTimeoutMs): Promise<boolean> {
    const session = this.live();
    if (!session) return Promise.resolve(false);
    if (this.cell.value === 'idle') return Promise.resolve(true);
    return this.idle.request(session, timeoutMs);
  }

  /**
   * Pause (true) or resume (false) reading from the connector: ingest backpressure through TCP
   * flow control. Kept across reconnects. While paused nothing is read — outbound results (which
   * may time out), pongs (keepalive is suspended) and the peer's close (seen on resume).
   */
  pauseReading(paused: boolean): void {
    this.readingPaused = paused;
    this.supervisor.session?.setPaused(paused);
  }

  /** Outbound calls awaiting a result. */
  pendingCount(): number {
    return this.correlator.pendingCount();
  }

  /**
   * Resolves once every outbound call awaiting a result now has one (at once when none does);
   * calls made meanwhile do not hold it. Unbounded: a caller that must not wait forever bounds it
   * (the shutdown gives it what is left of its work budget).
   */
  outboundSettled(): Promise<void> {
    return this.correlator.whenSettled();
  }

  /**
   * Stop: pending calls resolve `closed` (ambiguous), no more dials, the socket closes (bounded:
   * the close grace runs on `meter`'s time when given, the drain's, so a freeze does not use it up).
   */
  stop(meter?: PauseMeter): Promise<void> {
    this.stopping ??= this.shutdown(meter);
    return this.stopping;
  }

  private async shutdown(meter: PauseMeter | undefined): Promise<void> {
    this.cell.set('stopped');
    this.correlator.closeAll();
    this.idle.settle(false);
    const session = this.supervisor.stop();
    if (session) await session.close(1000, 'sidecar stopping', STOP_CLOSE_GRACE_MS, meter);
  }

  /** The session sends may use: handshaken, open, and the client ready or idle. */
  private live(): SocketSession | undefined {
    const s = this.supervisor.session;
    const usable = this.cell.value === 'ready' || this.cell.value === 'idle';
    return usable && s?.handshaken && s.writable ? s : undefined;
  }

  private onDescriptor(descriptor: Descriptor): void {
    const session = this.supervisor.session;
    if (!session?.acceptDescriptor(descriptor)) return;
    this.described = session;
    this.log.info(
      { session: session.id, platform: descriptor.platform, contractVersion: descriptor.contract_version },
      'relay handshake complete',
    );
    this.supervisor.handshaken(session);
  }

  /** Open one session wired to this client (the supervisor's only way to dial). */
  private dial(): SocketSession {
    if (!this.dialer) throw new Error('RelayClient dialed before start()');
    const opened = this.dialer.open(
      (session) => ({
        frame: (frame) => this.table?.dispatch(frame),
        poison: (info) => this.poison(info),
        closed: (info) => {
          // Every frame still waiting was written on this socket: it may have been applied.
          this.correlator.connectionLost();
          this.idle.settle(false);
          this.supervisor.closed(session, info);
        },
      }),
      this.ladder.attempts,
    );
    // A new connection inherits backpressure; it takes effect after its handshake.
    opened.setPaused(this.readingPaused);
    return opened;
  }

  private poison(info: { bufferId: string; code: string; reason: string; type?: string }): void {
    try {
      this.routes?.poison?.(info);
    } catch (err) {
      reportError(
        this.log,
        this.metrics,
        'CORE_ERR_ROUTER_HANDLER_FAILED',
        'route handler failed',
        {
          type: 'poison',
          err: (err as Error)?.message?.slice(0, 200),
        },
        'error',
      );
    }
  }
}
