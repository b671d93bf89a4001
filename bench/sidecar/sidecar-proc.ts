/**
 * The real sidecar as a child process: `node dist/sidecar/cli/main.js run`, configured only
 * through the documented env variables plus a config file of tunables, on a fixed loopback API
 * port chosen by the harness. Optionally under `--cpu-prof` (the profile is written at exit).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '../lib/clock.js';
import { repoRoot } from '../lib/paths.js';
import { cpuSeconds, rssMiB } from '../lib/proc-stats.js';

/** How to start one sidecar. */
export interface SidecarSpec {
  readonly mode: 'push' | 'pull';
  readonly connectorUrl: string;
  readonly gatewayId: string;
  readonly secret: string;
  readonly apiToken: string;
  readonly apiPort: number;
  /** A fresh directory the harness owns. */
  readonly dataDir: string;
  /** Push: the agent's URL. */
  readonly agentUrl?: string;
  /** Tunables in nested form (written to `<dataDir>/../sidecar-<port>.json`). */
  readonly config?: Record<string, unknown>;
  /** Write a V8 CPU profile here at exit. */
  readonly cpuProfDir?: string;
  /** Extra environment, for experiments (e.g. `MALLOC_ARENA_MAX=2`). */
  readonly env?: Readonly<Record<string, string>>;
}

/** The parts of `GET /v1/status` the benchmarks read. */
export interface SidecarStatus {
  readonly state?: string;
  readonly inbox?: Record<string, unknown>;
  readonly counters?: Record<string, number>;
  readonly pool?: Record<string, unknown>;
}

/** A running sidecar process. */
export class SidecarProc {
  /** The tail of what the process wrote (pino JSON lines at LOG_LEVEL=warn, the start summary). */
  private output = '';
  /** Log lines at warn or above, counted by `code` (or msg). */
  readonly problems = new Map<string, number>();
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly spec: SidecarSpec,
  ) {
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.output = (this.output + text).slice(-8_000);
      for (const line of text.split('\n')) {
        const m = /"level":(\d+).*?(?:"code":"([^"]+)"|"msg":"([^"]+)")/.exec(line);
        if (m && Number(m[1]) >= 40) {
          const key = m[2] ?? m[3] ?? 'unknown';
          this.problems.set(key, (this.problems.get(key) ?? 0) + 1);
        }
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        resolve();
      }),
    );
  }

  /** Spawn the CLI and wait until `/readyz` answers 200. */
  static async start(spec: SidecarSpec, readyTimeoutMs = 30_000): Promise<SidecarProc> {
    const configPath = join(spec.dataDir, 'bench-config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        relay: {
          identities: [
            { platform: 'discord', botId: '987654321098765432' },
            { platform: 'twilio', botId: 'AC0000000000000000000000000000abcd' },
          ],
        },
        ...(spec.config ?? {}),
      }),
    );
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      GATEWAY_RELAY_URL: spec.connectorUrl,
      GATEWAY_RELAY_ID: spec.gatewayId,
      GATEWAY_RELAY_SECRET: spec.secret,
      AGENT_MODE: spec.mode,
      SIDECAR_LISTEN: `127.0.0.1:${spec.apiPort}`,
      SIDECAR_API_TOKEN: spec.apiToken,
      SIDECAR_DATA_DIR: spec.dataDir,
      SIDECAR_PLUGINS: join(repoRoot(), 'plugins.json'),
      SIDECAR_CONFIG: configPath,
      LOG_LEVEL: 'warn',
      ...(spec.agentUrl ? { AGENT_URL: spec.agentUrl } : {}),
      ...spec.env,
    };
    const flags = spec.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${spec.cpuProfDir}`] : [];
    const child = spawn(process.execPath, [...flags, join(repoRoot(), 'dist/sidecar/cli/main.js'), 'run'], {
      env,
      cwd: spec.dataDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new SidecarProc(child, spec);
    try {
      await pollUntil(
        async () => {
          if (proc.exitCode !== undefined) throw new Error(`sidecar exited ${proc.exitCode}: ${proc.output}`);
          return (await proc.ready()) ? true : undefined;
        },
        readyTimeoutMs,
        'the sidecar to become ready',
        20,
      );
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return proc;
  }

  /** The agent API base URL. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.spec.apiPort}`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resident memory now, MiB (worker threads included). */
  rss(): number {
    return rssMiB(this.pid);
  }

  /** CPU time used so far, s. */
  cpu(): number {
    return cpuSeconds(this.pid);
  }

  /** True when `GET /readyz` answers 200. */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.apiUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** `GET /v1/status`. */
  async status(): Promise<SidecarStatus> {
    const res = await fetch(`${this.apiUrl}/v1/status`, {
      headers: { authorization: `Bearer ${this.spec.apiToken}` },
      signal: AbortSignal.timeout(5_000),
    });
    return (await res.json()) as SidecarStatus;
  }

  /** The recent output, for error messages. */
  tail(): string {
    return this.output.slice(-2_000);
  }

  /** SIGTERM (graceful drain, which also writes a CPU profile), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
