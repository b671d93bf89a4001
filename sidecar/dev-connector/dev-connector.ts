/**
 * A real relay connector peer on 127.0.0.1, for tests, the demo and plugin authors: it checks
 * upgrade tokens, answers hellos with descriptors and outbounds with results, acks going_idle,
 * replays buffered deliveries until acked, and records every frame both ways.
 */
import type { WebSocket } from 'ws';
import { ReplayBuffer } from './buffer.js';
import { Connection } from './connection.js';
import { closeFront, type Front, listenFront } from './http-front.js';
import {
  type DevConnectorOptions,
  type RecordedFrame,
  type ResolvedOptions,
  resolveOptions,
  type UpgradeRecord,
} from './options.js';
import { PeerProtocol } from './peer-protocol.js';
import { type FrameListener, Recorder } from './recorder.js';

/** How long `close()` lets sockets finish their closing handshake before terminating them. */
const CLOSE_GRACE_MS = 1000;
/** Default timeout of `waitFor` and `waitForConnection`. */
const DEFAULT_WAIT_MS = 5000;

/** A loopback relay connector. Create with {@link DevConnector.start}. */
export class DevConnector {
  /** Base URL to configure as `GATEWAY_RELAY_URL`, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** Every upgrade attempt, in order. */
  readonly upgrades: UpgradeRecord[] = [];
  private readonly recorder: Recorder;
  private readonly buffer = new ReplayBuffer();
  private readonly protocol: PeerProtocol;
  private readonly conns = new Map<number, Connection>();
  private readonly upgradeListeners = new Set<(rec: UpgradeRecord) => void>();
  private readonly pingListeners = new Set<(conn: number, pong: () => void) => void>();
  private secrets: readonly string[];
  private nextConn = 0;
  private closing = false;

  private constructor(
    private readonly opts: ResolvedOptions,
    options: DevConnectorOptions,
    private readonly front: Front,
  ) {
    this.recorder = new Recorder(opts.maxRecorded);
    this.protocol = new PeerProtocol(this.buffer, opts.answerGoingIdle, options);
    this.secrets = opts.secrets;
    this.port = front.port;
    this.url = `http://127.0.0.1:${front.port}`;
  }

  /** Listen on 127.0.0.1 (port 0 by default) and resolve once accepting. */
  static async start(options: DevConnectorOptions = {}): Promise<DevConnector> {
    const opts = resolveOptions(options);
    // The front needs the instance and the instance needs the front: bind late. Nothing can
    // arrive between `listen` resolving and the assignment below (same microtask run).
    let dc: DevConnector | undefined;
    const front = await listenFront(opts, {
      secrets: () => dc?.secrets ?? opts.secrets,
      closing: () => dc?.closing ?? true,
      upgraded: (rec) => dc?.recordUpgrade(rec),
      accepted: (ws) => (dc ? dc.accept(ws) : ws.terminate()),
    });
    dc = new DevConnector(opts, options, front);
    return dc;
  }

  /** Every recorded frame, both directions (`in` = from the sidecar), oldest first. */
  get frames(): RecordedFrame[] {
    return this.recorder.frames;
  }

  /** Connections currently open. */
  connectionCount(): number {
    return this.openConns().length;
  }

  /** Authorized connections accepted since start. */
  totalConnections(): number {
    return this.nextConn;
  }

  /** Subscribe to every recorded frame (a CLI prints them); returns the unsubscribe function. */
  onFrame(listener: FrameListener): () => void {
    return this.recorder.onFrame(listener);
  }

  /** Subscribe to every upgrade attempt; returns the unsubscribe function. */
  onUpgrade(listener: (rec: UpgradeRecord) => void): () => void {
    this.upgradeListeners.add(listener);
    return () => this.upgradeListeners.delete(listener);
  }

  /** The first recorded or future frame matching `pred`; rejects after `timeoutMs` (5000). */
  waitFor(pred: (f: RecordedFrame) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedFrame> {
    return this.recorder.waitFor(pred, timeoutMs);
  }

  /**
   * The id of an open connection whose first hello has arrived (the latest, if several), or of
   * the next one; `afterConn` skips connections with ids ≤ it (to await a reconnect).
   */
  async waitForConnection(timeoutMs = DEFAULT_WAIT_MS, afterConn = 0): Promise<number> {
    const latest = this.openConns()
      .filter((c) => c.helloSeen && c.id > afterConn)
      .at(-1);
    if (latest) return latest.id;
    const hello = await this.recorder.waitFor(
      (f) =>
        f.dir === 'in' && f.frame.type === 'hello' && !f.invalid && f.conn > afterConn && this.isOpen(f.conn),
      timeoutMs,
    );
    return hello.conn;
  }

  /** Send to one connection (default: the latest open). An object goes as JSON + `\n`, a string raw. */
  send(frame: Record<string, unknown> | string, opts: { binary?: boolean; conn?: number } = {}): void {
    const conn = opts.conn === undefined ? this.latest() : this.conns.get(opts.conn);
    if (!conn?.send(frame, opts.binary ?? false)) {
      throw new Error(`dev connector: connection ${opts.conn ?? '(latest)'} is not open`);
    }
  }

  /** Send a frame with a fresh `bufferId`, kept for replay until the sidecar acks it. */
  sendBuffered(frame: Record<string, unknown>): string {
    const { bufferId, frame: stored } = this.buffer.add(frame);
    // Only a handshaken connection gets it now; a newer one gets it in the replay after its hello.
    const conn = this.latest();
    if (conn?.ready) conn.send(stored);
    return bufferId;
  }

  /** The bufferIds not yet acked, oldest first. */
  pendingBuffered(): string[] {
    return this.buffer.ids();
  }

  /** Close every socket with `code` (default 1012, service restart). */
  drop(code = 1012, reason = 'dev connector drop'): void {
    for (const c of this.openConns()) c.close(code, reason);
  }

  /** Destroy every socket without a close frame. */
  terminate(): void {
    for (const c of this.openConns()) c.terminate();
  }

  /** Stop reading every open socket until the returned function is called (`Connection.pauseReading`). */
  pauseReading(): () => void {
    const resumes = this.openConns().map((c) => c.pauseReading());
    return () => {
      for (const resume of resumes) resume();
    };
  }

  /** Close every socket with 4401 and `reason` (`expired` or anything else). */
  close4401(reason: string): void {
    this.drop(4401, reason);
  }

  /**
   * Hear each protocol ping with the connection's id and a function that answers it: with
   * `autoPong: false` a test answers when it chooses (a pong held back). Returns the unsubscribe.
   */
  onPing(listener: (conn: number, pong: () => void) => void): () => void {
    this.pingListeners.add(listener);
    return () => this.pingListeners.delete(listener);
  }

  /** Replace the outbound responder (undefined restores the default). */
  setRespond(fn: DevConnectorOptions['respond']): void {
    this.protocol.setRespond(fn);
  }

  /** Replace the hello → descriptor function (undefined restores the default). */
  setDescriptorFor(fn: DevConnectorOptions['descriptorFor']): void {
    this.protocol.setDescriptorFor(fn);
  }

  /** Replace the secret rotation list (affects later upgrades only). */
  setSecrets(secrets: readonly string[]): void {
    this.secrets = [...secrets];
  }

  /** Stop: close sockets (terminating stragglers after 1 s), the servers, and pending waits. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.recorder.close();
    for (const c of this.openConns()) c.close(1001, 'dev connector closing');
    await closeFront(this.front, CLOSE_GRACE_MS);
  }

  private recordUpgrade(rec: UpgradeRecord): void {
    this.upgrades.push(rec);
    for (const listener of this.upgradeListeners) {
      try {
        listener(rec);
      } catch {}
    }
  }

  private accept(ws: WebSocket): void {
    this.nextConn += 1;
    const conn = new Connection(this.nextConn, ws, this.opts.maxPayload, {
      record: (entry) => this.recorder.record(entry),
      dispatch: (c, frame) => this.protocol.dispatch(c, frame),
    });
    this.conns.set(conn.id, conn);
    ws.on('ping', (data) => {
      for (const listener of this.pingListeners) listener(conn.id, () => ws.pong(data, undefined, () => {}));
    });
    // Forget the connection once fully closed, so the map stays bounded across reconnects.
    ws.on('close', () => this.conns.delete(conn.id));
  }

  private isOpen(id: number): boolean {
    return this.conns.get(id)?.open ?? false;
  }

  private openConns(): Connection[] {
    return [...this.conns.values()].filter((c) => c.open);
  }

  private latest(): Connection | undefined {
    return this.openConns().at(-1);
  }
}
