/**
 * The built CLI as a child process, for lifecycle tests: spawn `node dist/sidecar/cli/main.js`
 * with a private environment, collect stdout (pino JSON lines, parsed) and stderr (the operator's
 * text), wait on lines instead of sleeping, and kill the child at teardown.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir as tempDirOf } from '../../helpers/temp-dir.js';

/** The compiled CLI entry. */
export const CLI = join(repoRoot(), 'dist', 'sidecar', 'cli', 'main.js');
/** The repository's plugin manifest. */
export const PLUGINS = join(repoRoot(), 'plugins.json');
/**
 * Default wait for a child's output, ms: generous, because a loaded machine starts node slowly;
 * a passing test never waits this long, a failing one reports what the child printed. (20 s was
 * not enough: five CLI children started at once beside a soak and a suite printed nothing in it.)
 */
export const CHILD_WAIT_MS = 60_000;

/** How a child ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One parsed pino line from the child's stdout. */
export type ChildLog = Record<string, unknown> & { msg?: string; code?: string };

/** A running (or finished) CLI child. */
export interface SidecarChild {
  readonly proc: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** stdout lines that parsed as JSON (pino log records). */
  readonly logs: ChildLog[];
  /** Resolves once the child has exited (never rejects). */
  readonly exit: Promise<Exit>;
  /** True once exited. */
  exited(): boolean;
  /** The first stderr text matching `re` (already written or future); rejects after `timeoutMs`. */
  waitStderr(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The first log record matching `pred`; rejects after `timeoutMs`. */
  waitLog(pred: (l: ChildLog) => boolean, timeoutMs?: number): Promise<ChildLog>;
  /** The exit, or a rejection when the child is still running after `timeoutMs`. */
  waitExit(timeoutMs?: number): Promise<Exit>;
  /** The agent API base URL, parsed from the start-up summary. */
  apiUrl(timeoutMs?: number): Promise<string>;
}

/** Only what a child needs from the real environment: nothing that could configure it. */
function baseEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
}

/** A temp directory removed at teardown. */
export function tempDir(t: ExecutionContext, prefix = 'relay-life-'): string {
  return tempDirOf(t, prefix);
}

/** Write `value` as JSON to `dir/name` and return the path. */
export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** Spawn the CLI with `args` and exactly `env` (plus PATH/HOME); killed at teardown. */
export function spawnCli(
  t: ExecutionContext,
  args: readonly string[],
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): SidecarChild {
  const proc = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    cwd: repoRoot(),
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let partial = '';
  let done = false;
  const logs: ChildLog[] = [];
  const checks = new Set<() => void>();
  const poke = () => {
    for (const check of [...checks]) check();
  };
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line) as ChildLog);
      } catch {
        // not a log record (the demo's transcript, say): kept in stdout() only
      }
    }
    poke();
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    poke();
  });
  const exit = new Promise<Exit>((resolve) => {
    proc.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  // after 'exit' the pipes may still hold output: waiters re-check once they are drained
  proc.on('close', poke);
  t.teardown(() => {
    if (!done) proc.kill('SIGKILL');
  });

  /** Poll-free wait: re-run `probe` on every output chunk until it yields or time runs out. */
  const waitOn = <T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = probe();
        if (hit === undefined) return;
        checks.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        checks.delete(check);
        reject(
          new Error(
            `child: no ${what} within ${timeoutMs} ms\n--- stderr ---\n${err}\n--- stdout ---\n${out.slice(-4000)}`,
          ),
        );
      }, timeoutMs);
      checks.add(check);
      check();
    });

  const child: SidecarChild = {
    proc,
    stdout: () => out,
    stderr: () => err,
    logs,
    exit,
    exited: () => done,
    waitStderr: (re, timeoutMs = CHILD_WAIT_MS) =>
      waitOn(() => re.exec(err) ?? undefined, `stderr ${re}`, timeoutMs),
    waitLog: (pred, timeoutMs = CHILD_WAIT_MS) =>
      waitOn(() => logs.find(pred), 'matching log line', timeoutMs),
    waitExit: (timeoutMs = CHILD_WAIT_MS) =>
      Promise.race([
        exit,
        new Promise<Exit>((_, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`child still running after ${timeoutMs} ms\n--- stderr ---\n${err}`)),
            timeoutMs,
          );
          void exit.then(() => clearTimeout(timer));
        }),
      ]),
    apiUrl: async (timeoutMs = CHILD_WAIT_MS) => {
      const m = await child.waitStderr(/^ {2}api +(http:\/\/\S+)$/m, timeoutMs);
      return m[1] ?? '';
    },
  };
  return child;
}
