/**
 * A child process run as an unprivileged user whose thread limit (RLIMIT_NPROC) the test lowers
 * and restores while it runs: the real way a host refuses a thread, so that `new Worker` throws
 * `ERR_WORKER_INIT_FAILED`. root ignores the limit, and without CAP_SYS_RESOURCE (containers drop
 * it) root cannot change another user's process's limits either: a `prlimit` run as that same
 * user can (the soft limit, up to the hard one). Tests that need it are registered with
 * {@link withThreadLimit}, which skips them where this process cannot (not root, no util-linux, a
 * checkout the child's user cannot read).
 *
 * The limit is checked against the threads of the user, in every process: a child given room for
 * exactly one more thread (`limit({ spare: 1 })`) lost it when another limited child, of a test
 * running beside it (ava runs a file's tests at once, and files too), started threads meanwhile,
 * or had more when that child's threads ended. So one limited child runs at a time: the tests are
 * serial within a file, and a lock (nproc-lock.ts: freed by the kernel as its holder's process
 * ends) is held from a child's start until it has exited, across test processes.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { holdLock } from './nproc-lock.js';
import { tempDir } from './temp-dir.js';

/** `nobody`: a user with no privilege and, on a test machine, no other process. */
const AS_NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
const NOBODY = 65534;

/**
 * The threads `nobody` runs now, in every process (`Threads:` of each whose real uid it is): the
 * count `RLIMIT_NPROC` is checked against is the user's, not the process's.
 */
function userThreads(): number {
  let threads = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== NOBODY) continue;
    threads += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return threads;
}

function canLimit(): boolean {
  if (process.getuid?.() !== 0) return false;
  if (spawnSync('setpriv', [...AS_NOBODY, 'prlimit', '--version']).status !== 0) return false;
  // a checkout under a private directory (root's home) cannot be read by the child's user: the
  // children's scripts and modules are in it, as this file is
  return spawnSync('setpriv', [...AS_NOBODY, 'test', '-r', fileURLToPath(import.meta.url)]).status === 0;
}

/** `test.serial` where this process can run a child under a thread limit, else `test.skip`. */
export const withThreadLimit = canLimit() ? test.serial : test.skip;

/** The lock held while a limited child runs, by one test process at a time (nproc-lock.ts). */
const LOCK = 'relay-sidecar-nproc.lock';
/** Longest a test waits for another's limited child, ms (each runs well within a minute). */
const LOCK_WAIT_MS = 300_000;

/** Take the one-limited-child lock for this test, released at its teardown (after the child's). */
async function lockLimitedChild(t: ExecutionContext): Promise<void> {
  const release = await holdLock(LOCK, LOCK_WAIT_MS);
  t.teardown(release);
}

/** A child under test: one command a line in, one JSON answer a line out. */
export interface LimitedChild {
  /** Send `command`; the child's next answer (rejects if it exits first, with its code and stderr). */
  send(command: string): Promise<Record<string, unknown>>;
  /**
   * Refuse (`true`: any new thread of the user fails), allow new threads again (`false`), or
   * allow `spare` more threads than the user runs now (the child idle between commands).
   */
  limit(on: boolean | { readonly spare: number }): void;
  /** How the child ended: its exit code, once it has. */
  readonly exited: Promise<number | null>;
}

/**
 * Start `script` with `args` as `nobody`; a temp dir it may write in is the first argument. The
 * child is killed at teardown if still running.
 */
export async function startLimitedChild(
  t: ExecutionContext,
  script: string,
  args: readonly string[] = [],
): Promise<LimitedChild> {
  // registered before the child's end below: released once that child has exited
  await lockLimitedChild(t);
  const dir = tempDir(t, 'relay-nproc-');
  chmodSync(dir, 0o777);
  // a checkout under a private directory (root's home) cannot be read by the child's user
  if (spawnSync('setpriv', [...AS_NOBODY, 'test', '-r', script]).status !== 0)
    throw new Error(
      `user nobody cannot read ${script}: make the checkout's path readable by others (chmod o+rx)`,
    );
  const child: ChildProcess = spawn('setpriv', [...AS_NOBODY, process.execPath, script, dir, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // its threads count against the next child's room until it has exited
    await exited;
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const answers: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else answers.push(line);
  });
  const nextAnswer = () =>
    Promise.race([
      new Promise<string>((resolve) => {
        const line = answers.shift();
        if (line === undefined) waiting.push(resolve);
        else resolve(line);
      }),
      exited.then((code) => {
        throw new Error(`the child exited with code ${code} before answering: ${stderr}`);
      }),
    ]).then((line) => JSON.parse(line) as Record<string, unknown>);
  const { pid } = await nextAnswer();
  const limit = (on: boolean | { readonly spare: number }) => {
    // the hard limit stays: the soft one goes to 1 (below what the user runs: every new thread
    // fails), to the user's threads plus the spare ones, or back up to the hard one
    const hard = /^Max processes\s+\S+\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1];
    const soft = on === true ? 1 : on === false ? hard : userThreads() + on.spare;
    const r = spawnSync('setpriv', [...AS_NOBODY, 'prlimit', `--pid=${pid}`, `--nproc=${soft}:`]);
    if (r.status !== 0) throw new Error(`prlimit failed: ${r.stderr.toString().trim()}`);
  };
  return {
    send: (command) => {
      child.stdin?.write(`${command}\n`);
      return nextAnswer();
    },
    limit,
    exited,
  };
}
