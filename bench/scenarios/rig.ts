/**
 * The benchmark rig: one connector process, one bare-baseline process, the loopback agents, and
 * (one at a time) a real sidecar process wired to them. Scenarios measure through it; it owns
 * every process and temp directory and closes them all, bounded, in `close()`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PullAgent } from '../agent/pull-agent.js';
import { PushAgent } from '../agent/push-agent.js';
import { BareProc } from '../baseline/bare-proc.js';
import { ConnectorProc } from '../connector/connector-proc.js';
import { freePort } from '../lib/ports.js';
import { SidecarProc, type SidecarSpec } from '../sidecar/sidecar-proc.js';

/** Which agent a sidecar delivers to. */
export type Mode = 'push' | 'pull';

/** Rig options. */
export interface RigOptions {
  /** Start sidecars under `--cpu-prof`, profiles into this directory. */
  readonly cpuProfDir?: string;
  /** Extra environment of every sidecar (experiments, e.g. `MALLOC_ARENA_MAX=2`). */
  readonly sidecarEnv?: Readonly<Record<string, string>>;
  /** Tunables of every sidecar's config file; a scenario's own settings win (experiments). */
  readonly sidecarConfig?: Readonly<Record<string, unknown>>;
}

/** The running rig. */
export class Rig {
  readonly apiToken = randomBytes(24).toString('hex');
  readonly gatewayId = 'bench-gateway';
  readonly dir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  sidecar: SidecarProc | undefined;
  pull: PullAgent | undefined;
  /** Warn/error log lines of every sidecar stopped so far, by code. */
  readonly problems = new Map<string, number>();
  private tags = 0;
  private readerUp = false;
  private dataDirs = 0;

  private constructor(
    readonly secret: string,
    public connector: ConnectorProc,
    readonly connectorPort: number,
    readonly bare: BareProc,
    readonly push: PushAgent,
    private readonly opts: RigOptions,
  ) {}

  /** Start the connector, the bare process and the push agent. */
  static async start(opts: RigOptions = {}): Promise<Rig> {
    const secret = randomBytes(24).toString('hex');
    // a fixed port: a restarted connector must come back on the address the sidecar dials
    const port = await freePort();
    const connector = await ConnectorProc.start(port, secret);
    return new Rig(secret, connector, port, BareProc.start(), await PushAgent.start(), opts);
  }

  /** A tag no other measurement of this harness run uses. */
  nextTag(): number {
    this.tags += 1;
    return this.tags;
  }

  /** Peer credentials of the bare baselines (they dial the `base` connector). */
  bareArgs() {
    return {
      connectorUrl: this.connector.url('base'),
      gatewayId: this.gatewayId,
      secret: this.secret,
      token: this.apiToken,
    };
  }

  /** Connect the bare reader to the `base` connector (once). */
  async ensureReader(): Promise<void> {
    if (this.readerUp) return;
    await this.bare.connectReader(this.bareArgs());
    this.readerUp = true;
  }

  /** Disconnect the bare reader (before another peer dials `base`). */
  async dropReader(): Promise<void> {
    if (!this.readerUp) return;
    await this.bare.disconnectReader();
    this.readerUp = false;
  }

  /**
   * Restart the connector process on the same port, handing it the buffered frames the old one
   * still owed. The bare peers' connections die with the old process: the reader redials on its
   * next use (the bare relay API does not; scenarios that need it run before any restart).
   */
  async restartConnector(): Promise<{ closedPending: number; nextSeq: number; next: ConnectorProc }> {
    const closed = await this.connector.close();
    this.readerUp = false;
    const next = await ConnectorProc.start(this.connectorPort, this.secret, closed.pending);
    this.connector = next;
    return { closedPending: closed.pending.length, nextSeq: closed.nextSeq, next };
  }

  /** Start a fresh sidecar (new data dir) in `mode`, wait until ready, attach the pull agent. */
  async startSidecar(mode: Mode, config?: Record<string, unknown>): Promise<SidecarProc> {
    await this.stopSidecar();
    this.dataDirs += 1;
    const dataDir = mkdtempSync(join(this.dir, `sidecar-${this.dataDirs}-`));
    const spec: SidecarSpec = {
      mode,
      connectorUrl: this.connector.url('main'),
      gatewayId: this.gatewayId,
      secret: this.secret,
      apiToken: this.apiToken,
      apiPort: await freePort(),
      dataDir,
      ...(mode === 'push' ? { agentUrl: this.push.url } : {}),
      ...(config || this.opts.sidecarConfig ? { config: { ...this.opts.sidecarConfig, ...config } } : {}),
      ...(this.opts.cpuProfDir ? { cpuProfDir: this.opts.cpuProfDir } : {}),
      ...(this.opts.sidecarEnv ? { env: this.opts.sidecarEnv } : {}),
    };
    this.sidecar = await SidecarProc.start(spec);
    await this.connector.waitConnected('main');
    if (mode === 'pull') this.pull = await PullAgent.connect(this.sidecar.apiUrl, this.apiToken);
    return this.sidecar;
  }

  /** Stop the current sidecar (graceful) and its pull agent. */
  async stopSidecar(): Promise<void> {
    await this.pull?.close();
    this.pull = undefined;
    await this.sidecar?.stop();
    for (const [k, n] of this.sidecar?.problems ?? []) this.problems.set(k, (this.problems.get(k) ?? 0) + n);
    this.sidecar = undefined;
  }

  /** Stop everything and remove the temp directory. */
  async close(): Promise<void> {
    await this.stopSidecar().catch(() => undefined);
    await this.connector.close().catch(() => undefined);
    await this.bare.stop().catch(() => undefined);
    await this.push.close().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
