/**
 * The pool worker's side of a plugin ending its worker (docs/decisions.md, "Exit attempts").
 * `process.exit` (and `process.reallyExit`, which it calls) and a signal sent to this very
 * process are replaced by a throw of an {@link ExitAttempt}, made before any plugin loads:
 *
 * - made while no batch item runs (a timer a module or a hook left behind): it is a stray error,
 *   reported at once, and the worker goes on — before, such a timer ended every worker that
 *   imported the module, a silent crash loop (piscina reports no error for a worker with no task);
 * - made while an item runs: if it reaches the stray trap before the item ends (a timer of any
 *   plugin firing while a hook awaits), it is stray too; otherwise it is the item's — the hook's
 *   throw or a throw the hook caught — and once the item ends the worker reports it and really
 *   exits, so the item fails as a death (`CORE_ERR_PLUGIN_WORKER_DIED`) and the pool replaces
 *   the worker (spec/plugins.md, "Isolation").
 *
 * `process.abort()` needs nothing: in a worker thread it throws ERR_WORKER_UNSUPPORTED_OPERATION.
 */

/** A plugin's attempt to end its worker or the process, turned into a throw. */
export class ExitAttempt extends Error {
  /** The call as made, for messages: `process.exit(1)`, `process.kill(1234, SIGTERM)`. */
  readonly call: string;
  /** The thread's exit code, should the attempt end it. */
  readonly exitCode: number;

  constructor(call: string, exitCode: number) {
    super(`${call} called outside any hook`);
    this.name = 'ExitAttempt';
    this.call = call;
    this.exitCode = exitCode;
  }
}

/** Where an attempt made while an item ran was made (progress of the running batch). */
export interface ItemAttempt {
  readonly attempt: ExitAttempt;
  readonly item: number;
  readonly position: number;
}

/** An integer exit code from what a plugin passed (`process.exit('2')` works in node too). */
function exitCodeOf(code: unknown): number {
  const n = Number(code ?? 0);
  return Number.isSafeInteger(n) ? n : 1;
}

/** A printable argument: never throws, whatever was passed. */
function shown(value: unknown): string {
  try {
    return value === undefined ? '' : String(value).slice(0, 40);
  } catch {
    return typeof value;
  }
}

/**
 * A signal that would reach this process: its own pid, its process group (0, -pid) or every
 * process (-1). Signal 0 only checks for existence and is let through.
 */
function hitsSelf(pid: unknown, signal: unknown): boolean {
  if (signal === 0) return false;
  const n = Number(pid);
  return n === process.pid || n === 0 || n === -1 || n === -process.pid;
}

/**
 * Make `process.exit`, `process.reallyExit` and a `process.kill` that would signal this process
 * call `attempt` (which throws) instead; other signals go through. Used by the pool workers and
 * the start-up check thread, where a module's timer could otherwise send SIGTERM to the sidecar.
 */
export function replaceExits(attempt: (call: string, code: number) => never): void {
  const exit = process.exit.bind(process);
  const reallyExit = (process as { reallyExit?: (code?: unknown) => never }).reallyExit;
  // node ends a thread dying of an uncaught error (a plugin's uncaughtException listener that
  // throws, as one calling process.exit now does) with process.exit, `_exiting` set: a throw there
  // aborted the whole process (FATAL ERROR: v8::ToLocalChecked Empty MaybeLocal); a real exit
  // under way is let through too
  const ending = () => (process as { _exiting?: unknown })._exiting === true;
  process.exit = ((...args: [code?: unknown]) =>
    ending()
      ? exit(...(args as [number?]))
      : attempt(`process.exit(${shown(args[0])})`, exitCodeOf(args[0]))) as typeof process.exit;
  // what process.exit calls; a worker thread ends at once when called directly
  (process as { reallyExit?: unknown }).reallyExit = (code?: unknown) =>
    ending() && reallyExit
      ? reallyExit(code)
      : attempt(`process.reallyExit(${shown(code)})`, exitCodeOf(code));
  const kill = process.kill.bind(process);
  // a worker shares its process's pid: process.kill(process.pid) sends SIGTERM to the sidecar
  process.kill = ((pid: number, signal?: string | number) => {
    // read once: a pid whose valueOf answers differently per call passed the check as another
    // pid, then reached node's kill as this one
    const target = typeof pid === 'object' && pid !== null ? Number(pid) : pid;
    return hitsSelf(target, signal)
      ? attempt(`process.kill(${shown(target)}, ${shown(signal ?? 'SIGTERM')})`, 1)
      : kill(target, signal);
  }) as typeof process.kill;
}

/** The worker's exit trap: installed once, before any plugin module is imported. */
export class ExitTrap {
  private running: { item: number; position: number } | undefined;
  private pending: ItemAttempt | undefined;
  private readonly claimed = new WeakSet<ExitAttempt>();
  private readonly realExit = process.exit.bind(process);
  private readonly realReallyExit = (process as { reallyExit?: (code?: number) => never }).reallyExit;

  /** @param stray reports an attempt as a stray error (stray-trap.ts). */
  constructor(private readonly stray: (err: ExitAttempt) => void) {}

  /** Replace the calls that end the thread or signal the process. */
  install(): void {
    replaceExits((call, code) => {
      throw this.made(new ExitAttempt(call, code));
    });
  }

  /** An item starts chain position `position` (called before each position). */
  enter(item: number, position: number): void {
    this.running = { item, position };
  }

  /**
   * The running item ended: the attempt it made that did not reach the stray trap, if any (then
   * the worker must {@link exit}). Attempts are forgotten either way.
   */
  leave(): ItemAttempt | undefined {
    const pending = this.pending;
    this.running = undefined;
    this.pending = undefined;
    return pending;
  }

  /**
   * The stray trap met `err`: true if it is an attempt already reported (made outside an item),
   * else, for an item's attempt, it is no longer the item's: the caller reports it as stray.
   */
  strayed(err: ExitAttempt): boolean {
    if (this.claimed.has(err)) return true;
    this.claimed.add(err);
    if (this.pending?.attempt === err) this.pending = undefined;
    return false;
  }

  /** End the thread for real (after the item's attempt was reported). */
  exit(code: number): never {
    (process as { reallyExit?: unknown }).reallyExit = this.realReallyExit;
    try {
      return this.realExit(code);
    } catch {
      // a plugin's process 'exit' listener threw out of the exit, which left the thread running
      // while its task was told the worker was replaced; the second call skips the listeners
      // (`process._exiting` is set) and ends the thread
      return this.realExit(code);
    }
  }

  private made(err: ExitAttempt): ExitAttempt {
    const running = this.running;
    if (!running) {
      // no hook runs: only code a plugin left behind can make it; reported now (strayed() claims
      // it), so the trap skips it when the throw arrives, or nothing if the plugin catches it
      this.stray(err);
    } else {
      // the first one an item makes is the one it fails with
      this.pending ??= { attempt: err, ...running };
    }
    return err;
  }
}
