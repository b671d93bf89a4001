/**
 * The built CLI (`node dist/sidecar/cli/main.js run`) as a real child process, for end-to-end
 * tests that kill it: spawn with an env (plus an optional config file of tunables), learn the
 * API address from its log, wait for `GET /readyz` 200, send it a signal, and keep every
 * stdout/stderr line (stdout lines are pino JSON and are parsed).
 *
 * `npx tsc` must have built `dist/` first (the tests run from `dist/` anyway).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { LogLine } from './log-sink.js';
import { repoRoot } from './repo-root.js';

/** How the process ended: an exit code, or the signal that killed it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Options of {@link startSidecarProcess}. */
export interface SidecarProcessOptions {
  /**
   * The variables of `spec/config.md` (GATEWAY_RELAY_URL, SIDECAR_DATA_DIR, …). The child gets
   * only these plus PATH/HOME/TMPDIR, so nothing leaks in from the test runner's environment.
   * `SIDECAR_LISTEN` defaults to `127.0.0.1:0`.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Tunables in nested form, written as JSON into `configDir` and passed as `SIDECAR_CONFIG`. */
  readonly config?: Record<string, unknown>;
  /** Where to write the config file (a temp dir the test owns); required with `config`. */
  readonly configDir?: string;
  /** Arguments after `run`. */
  readonly args?: readonly string[];
  /** Wait this long for `/readyz` 200, ms; default 15 000. */
  readonly readyTimeoutMs?: number;
  /** Do not wait for readiness (a start that is expected to fail). */
  readonly noWait?: boolean;
}

/** The CLI entry point in the compiled tree. */
export function cliPath(): string {
  return join(repoRoot(), 'dist', 'sidecar', 'cli', 'main.js');
}

/** A running (or ended) `relay-sidecar run` child process. */
export class SidecarProcess {
  /** Every stdout line parsed as JSON (non-JSON lines as `{level: 0, msg}`), in order. */
  readonly lines: LogLine[] = [];
  /** Every stderr line, in order (the start-up summary, signal notices). */
  readonly stderrLines: string[] = [];
  /** Settles when the process has ended. */
  readonly exited: Promise<ProcessExit>;
  private readonly events = new EventEmitter();
  private stdout = '';
  private stderr = '';
  private ended: ProcessExit | undefined;
  private base: string | undefined;

  constructor(private readonly child: ChildProcess) {
    this.events.setMaxListeners(0);
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    let outPartial = '';
    let errPartial = '';
    child.stdout?.on('data', (chunk: string) => {
      this.stdout += chunk;
      outPartial += chunk;
      const parts = outPartial.split('\n');
      outPartial = parts.pop() ?? '';
      for (const part of parts) if (part.trim() !== '') this.onStdoutLine(part);
    });
    child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
      errPartial += chunk;
      const parts = errPartial.split('\n');
      errPartial = parts.pop() ?? '';
      for (const part of parts) this.stderrLines.push(part);
      this.events.emit('change');
    });
    this.exited = new Promise((resolve) => {
      const end = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.ended) return;
        this.ended = { code, signal };
        this.events.emit('change');
        resolve(this.ended);
      };
      child.on('exit', end);
      // a spawn failure emits 'error' and may never emit 'exit'
      child.on('error', (err) => {
        this.stderr += `spawn failed: ${err.message}\n`;
        end(null, null);
      });
    });
  }

  /** The child's pid. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True until the process has ended. */
  get running(): boolean {
    return this.ended === undefined;
  }

  /** `http://127.0.0.1:<port>` of the agent API (known once the API listens). */
  get apiUrl(): string {
    if (!this.base) throw new Error('sidecar process: the API address is not known yet');
    return this.base;
  }

  /** Everything the process wrote to stdout and stderr, exactly as written. */
  text(): string {
    return this.stdout + this.stderr;
  }

  /** Parsed stdout lines carrying `code`. */
  withCode(code: string): LogLine[] {
    return this.lines.filter((l) => l.code === code);
  }

  /** Parsed stdout lines with message `msg`. */
  withMsg(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }

  /** Resolve with the first log line (past or future) matching `pred`; reject on timeout or exit. */
  waitForLine(pred: (line: LogLine) => boolean, timeoutMs = 5_000): Promise<LogLine> {
    return this.waitUntil(() => this.lines.find(pred), timeoutMs, 'no matching log line');
  }

  /** `fetch` on the agent API; `token` adds the bearer header. */
  api(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
    const { token, headers, ...rest } = init;
    return fetch(`${this.apiUrl}${path}`, {
      ...rest,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(rest.body ? { 'content-type': 'application/json' } : {}),
        ...(headers as Record<string, string> | undefined),
      },
    });
  }

  /** Wait for the API address, then for `GET /readyz` 200 (the relay handshake completed). */
  async waitReady(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.waitUntil(() => this.base, timeoutMs, 'the agent API address was not logged');
    for (;;) {
      if (!this.running) throw new Error(`sidecar process ended before ready: ${this.describeEnd()}`);
      try {
        const res = await fetch(`${this.base}/readyz`, { signal: AbortSignal.timeout(1_000) });
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch {
        // not accepting yet: poll again
      }
      if (Date.now() > deadline) throw new Error(`sidecar process not ready within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Send `signal` (default SIGKILL) and resolve once the process has ended. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ProcessExit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  private onStdoutLine(text: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { level: 0, msg: text };
    }
    this.lines.push(line);
    // the API logs its bound address once it listens (port 0 ⇒ the real port)
    if (!this.base && line.msg === 'agent api listening' && typeof line.address === 'string') {
      this.base = `http://${line.address}`;
    }
    this.events.emit('change');
  }

  private waitUntil<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value !== undefined) {
          done();
          resolve(value);
        } else if (!this.running) {
          done();
          reject(new Error(`${what}: sidecar process ended (${this.describeEnd()})`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.events.off('change', check);
      };
      this.events.on('change', check);
    });
  }

  private describeEnd(): string {
    const end = this.ended;
    const how = end ? (end.signal ? `signal ${end.signal}` : `exit ${end.code}`) : 'running';
    return `${how}; stderr: ${this.stderr.slice(-800)}`;
  }
}

/**
 * Spawn `relay-sidecar run` and (unless `noWait`) wait until it is ready. The process is killed
 * with SIGKILL at teardown if it is still running.
 */
export async function startSidecarProcess(
  t: ExecutionContext,
  options: SidecarProcessOptions,
): Promise<SidecarProcess> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    SIDECAR_LISTEN: '127.0.0.1:0',
    ...options.env,
  };
  if (options.config) {
    if (!options.configDir) throw new Error('startSidecarProcess: config needs configDir');
    const file = join(
      options.configDir,
      `sidecar-config-${Date.now()}-${Math.random().toString(36).slice(2)}.json`,
    );
    writeFileSync(file, JSON.stringify(options.config));
    env.SIDECAR_CONFIG = file;
  }
  const child = spawn(process.execPath, [cliPath(), 'run', ...(options.args ?? [])], {
    cwd: repoRoot(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new SidecarProcess(child);
  t.teardown(async () => {
    await proc.kill('SIGKILL');
  });
  if (!options.noWait) await proc.waitReady(options.readyTimeoutMs);
  return proc;
}
