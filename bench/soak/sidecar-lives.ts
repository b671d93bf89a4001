/**
 * The sidecar under soak: the real CLI process, started again and again on the same data dir
 * (each start is a "life"), ended by SIGTERM (must exit 0) or SIGKILL (may lose what it had not
 * committed), never on its own, and now and then frozen (SIGSTOP) and resumed. Also the soak's
 * tunables and environment for it, and a one-off CLI run (the offline dead-letter replay) while
 * no life runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, type ProcessExit, SidecarProcess } from '../../test/helpers/sidecar-process.js';
import { repoRoot } from '../lib/paths.js';
import { SOAK_MAX_PAYLOAD } from './bad-input.js';
import type { ChaosConnector } from './chaos-connector.js';
import { BOT_IDS } from './event-generator.js';
import { type SoakRun, sleep } from './soak-run.js';

/** The gateway id the sidecar authenticates as (its prefix shows in the upgrade token). */
export const GATEWAY_ID = 'soak-gateway';

/** What the sidecar's environment is made of. */
export interface SidecarSetup {
  /** The run's temp dir (the config file goes there). */
  readonly dir: string;
  readonly dataDir: string;
  readonly secret: string;
  readonly token: string;
  readonly connectorUrl: string;
  readonly mode: 'push' | 'pull';
  /** The push agent's URL (push only). */
  readonly agentUrl?: string;
  /** Tunables deep-merged over the soak's own. */
  readonly sidecarConfig?: Record<string, unknown>;
  readonly logLevel?: string;
}

/**
 * Write the sidecar's config file into `setup.dir` and return its environment. The timeouts are
 * short so that faults resolve within the soak's fault gaps; nothing from the soak's own
 * environment leaks in but PATH and HOME.
 */
export function sidecarEnv(setup: SidecarSetup): Record<string, string> {
  const config = {
    relay: {
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      pingIntervalMs: 1_000,
      pongTimeoutMs: 10_000,
      handshakeTimeoutMs: 10_000,
      outboundTimeoutMs: 3_000,
      // a connection up this long resets the 4401 strikes (the soak's one-off 4401s are far apart)
      stableAfterMs: 2_000,
      // small, so the bad-input fault's message over it is cheap to send
      maxPayloadBytes: SOAK_MAX_PAYLOAD,
    },
    agent: {
      mode: setup.mode,
      timeoutMs: 1_500,
      retryBaseMs: 20,
      retryMaxMs: 200,
      maxRejections: 3,
    },
    pool: { taskTimeoutMs: 15_000 },
    shutdown: { budgetMs: 5_000 },
  };
  const configPath = join(setup.dir, 'sidecar-config.json');
  writeFileSync(configPath, JSON.stringify(mergeDeep(config, setup.sidecarConfig ?? {})));
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    SIDECAR_LISTEN: '127.0.0.1:0',
    GATEWAY_RELAY_URL: setup.connectorUrl,
    GATEWAY_RELAY_ID: GATEWAY_ID,
    GATEWAY_RELAY_SECRET: setup.secret,
    GATEWAY_RELAY_PLATFORMS: 'discord,telegram,slack',
    GATEWAY_RELAY_BOT_IDS: JSON.stringify(
      Object.fromEntries(Object.entries(BOT_IDS).map(([p, botId]) => [p, { botId }])),
    ),
    SIDECAR_API_TOKEN: setup.token,
    SIDECAR_DATA_DIR: setup.dataDir,
    SIDECAR_PLUGINS: join(repoRoot(), 'plugins.json'),
    SIDECAR_CONFIG: configPath,
    LOG_LEVEL: setup.logLevel ?? 'debug',
    ...(setup.agentUrl ? { AGENT_URL: setup.agentUrl } : {}),
  };
}

/** The sidecar's lives, one running at a time. */
export class SidecarLives {
  /** Every life, in order (its output is checked at the end). */
  readonly lives: SidecarProcess[] = [];
  private proc: SidecarProcess | undefined;
  /** The lives the soak ended, and how: any other exit is a violation. */
  private readonly expectedEnd = new Map<SidecarProcess, NodeJS.Signals>();
  /** The connector's first connection sequence of the current life. */
  private lifeFirstConn = 1;

  constructor(
    private readonly run: SoakRun,
    private readonly connector: ChaosConnector,
    /** The environment of every life (from {@link sidecarEnv}). */
    readonly env: Record<string, string>,
  ) {}

  /** A life runs (or is starting). */
  get running(): boolean {
    return this.proc !== undefined;
  }

  /** The current life's API base, or undefined while none runs. */
  base(): string | undefined {
    try {
      return this.proc?.running ? this.proc.apiUrl : undefined;
    } catch {
      return undefined;
    }
  }

  /** Start a life and wait until it is ready (a life that never is, is a violation). */
  async start(): Promise<void> {
    const child: ChildProcess = spawn(process.execPath, [cliPath(), 'run'], {
      cwd: repoRoot(),
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new SidecarProcess(child);
    this.lifeFirstConn = this.connector.lastConnSeq + 1;
    this.lives.push(p);
    this.proc = p;
    this.run.bump('sidecarLives');
    void p.exited.then((exit) => {
      if (!this.expectedEnd.has(p)) {
        this.run.violations.push(
          `sidecar life ${this.lives.indexOf(p) + 1} exited on its own: ${describe(exit)}`,
        );
      }
    });
    try {
      await p.waitReady(30_000);
    } catch (err) {
      this.run.violations.push(
        `sidecar life ${this.lives.indexOf(p) + 1} did not become ready: ${(err as Error).message}`,
      );
    }
  }

  /**
   * Stop the current life (SIGSTOP) for `ms`, then resume it (SIGCONT); no-op while none runs.
   * It is resumed whatever happens meanwhile: a stopped process would hold a later SIGTERM.
   */
  async freeze(ms: number): Promise<void> {
    const p = this.proc;
    if (!p?.running) return;
    process.kill(p.pid, 'SIGSTOP');
    this.run.bump('sidecarFrozenMs', ms);
    try {
      await sleep(ms);
    } finally {
      if (p.running) process.kill(p.pid, 'SIGCONT');
    }
  }

  /**
   * End the current life with `signal`; SIGTERM must end it with exit 0. Resolves with the
   * connection sequences the life used, [fromSeq, upTo] (a SIGKILL cut them abruptly), or
   * undefined when no life ran.
   */
  async stop(signal: NodeJS.Signals): Promise<{ fromSeq: number; upTo: number } | undefined> {
    const p = this.proc;
    if (!p) return undefined;
    this.proc = undefined;
    this.expectedEnd.set(p, signal);
    const exit = await p.kill(signal);
    const used = { fromSeq: this.lifeFirstConn, upTo: this.connector.lastConnSeq };
    if (signal === 'SIGTERM' && !(exit.code === 0 && exit.signal === null)) {
      this.run.violations.push(
        `sidecar life ${this.lives.indexOf(p) + 1}: SIGTERM ended it with ${describe(exit)}, not exit 0`,
      );
    }
    return used;
  }
}

/** `over` deep-merged onto `base` (plain objects merge, anything else replaces). */
function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const plain = (x: unknown): x is Record<string, unknown> =>
      typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = plain(b) && plain(v) ? mergeDeep(b, v) : v;
  }
  return out;
}

/** Run the CLI with `args` and `env`; resolves with its exit code and output. */
export function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath(), ...args], {
      cwd: repoRoot(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    // a CLI that hangs must not hang the soak
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function describe(exit: ProcessExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit ${exit.code}`;
}
