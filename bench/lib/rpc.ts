/**
 * Request/response over the IPC channel of a forked child (`child_process.fork`): the harness
 * calls named operations in its helper processes (connector, baselines) and hears their events.
 * Every call has a timeout; a child that exits fails its pending calls at once.
 */
import { type ChildProcess, fork } from 'node:child_process';

/** A handler of one op; its argument type is its own (checked by the caller's usage). */
type Handler = (args: never) => unknown;

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

interface EventMessage {
  readonly ev: string;
  readonly data: unknown;
}

/** The harness's handle on one forked helper process. */
export class ChildRpc {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, Set<(data: unknown) => void>>();
  /** Settles with the exit code (or -1 for a signal) when the child has ended. */
  readonly exited: Promise<number>;
  private stderrTail = '';

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: Reply | EventMessage) => this.onMessage(msg));
    // a send racing the child's exit fails with EPIPE here; the pending call fails on 'exit'
    child.on('error', () => {});
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code) => {
        for (const p of this.pending.values())
          p.reject(new Error(`helper exited (${code}): ${this.stderrTail}`));
        this.pending.clear();
        resolve(code ?? -1);
      });
    });
  }

  /** Fork `modulePath` (a compiled .js file) with node flags `execArgv`. */
  static fork(modulePath: string, execArgv: readonly string[] = []): ChildRpc {
    const child = fork(modulePath, [], {
      execArgv: [...execArgv],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'json',
    });
    return new ChildRpc(child);
  }

  /** The child's pid. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Call `op` with `args`; rejects after `timeoutMs` or when the child fails the call or exits. */
  call<T = unknown>(op: string, args: unknown = {}, timeoutMs = 30_000): Promise<T> {
    const id = ++this.nextId;
    if (!this.child.connected) return Promise.reject(new Error(`helper call ${op}: the helper is gone`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`helper call ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, op, args });
    });
  }

  /** Send `op` without waiting for an answer (used for frequent, lossy updates). */
  notify(op: string, args: unknown = {}): void {
    if (this.child.connected) this.child.send({ id: 0, op, args });
  }

  /** Listen to event `ev` from the child; returns the unsubscribe function. */
  on<T>(ev: string, listener: (data: T) => void): () => void {
    let set = this.listeners.get(ev);
    if (!set) {
      set = new Set();
      this.listeners.set(ev, set);
    }
    const untyped = listener as (data: unknown) => void;
    set.add(untyped);
    return () => set.delete(untyped);
  }

  /** Ask the child to stop (`close` op, bounded), then make sure it is gone. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) await this.call('close', {}, timeoutMs).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private onMessage(msg: Reply | EventMessage): void {
    if ('ev' in msg) {
      for (const listener of this.listeners.get(msg.ev) ?? []) listener(msg.data);
      return;
    }
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    if (msg.ok) waiter.resolve(msg.value);
    else waiter.reject(new Error(msg.error ?? 'helper call failed'));
  }
}

/**
 * The child side: answer calls with `handlers` (sync or async), and exit once `close` has been
 * answered (a `close` handler, when given, runs first) or when the parent goes away.
 */
export function serveRpc(handlers: Record<string, Handler>): void {
  process.on('message', async (msg: { id: number; op: string; args: unknown }) => {
    const handler = handlers[msg.op];
    try {
      if (!handler && msg.op !== 'close') throw new Error(`unknown op ${msg.op}`);
      const value = handler ? await (handler as (a: unknown) => unknown)(msg.args) : undefined;
      if (msg.id !== 0) process.send?.({ id: msg.id, ok: true, value });
    } catch (err) {
      if (msg.id !== 0)
        process.send?.({ id: msg.id, ok: false, error: (err as Error)?.message ?? String(err) });
    }
    if (msg.op === 'close') setImmediate(() => process.exit(0));
  });
  // an orphaned helper must never outlive the harness
  process.on('disconnect', () => process.exit(0));
}

/** Send event `ev` to the parent. */
export function emitEvent(ev: string, data: unknown): void {
  process.send?.({ ev, data });
}
