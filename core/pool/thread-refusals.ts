/**
 * A thread the host refuses must not end the process (docs/decisions.md, "Worker deaths"). On
 * node 20, past a thread or pids limit, `new Worker` throws `ERR_WORKER_INIT_FAILED` (EAGAIN)
 * synchronously. piscina starts workers from its own event handlers too — a worker's exit or
 * error, a task's abort, a worker's ready message or answer — where that throw is uncaught: the
 * sidecar exited 1 (measured, test/core/pool/thread-limit). piscina has no option for the worker
 * class, and no handler of ours runs around its listeners.
 *
 * The one seam that is not a private field: piscina (CommonJS) reads `Worker` from
 * `require('node:worker_threads')` at every start. {@link guardWorkerStarts} puts there a proxy of
 * it that, for piscina's own worker file only and for that error only, returns a
 * {@link RefusedWorker} instead of throwing: a worker that fails at once, as one whose entry fails
 * to load does, which piscina handles (its tasks rejected, its `error` event) and worker-starts.ts
 * reports. Every other start, and every other error, is the original's. ESM importers of
 * `node:worker_threads` keep the original class (node syncs builtin ESM exports only on request).
 * test/core/pool/thread-refusals checks that piscina's starts still go through the seam.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { threadRefused } from './refused-start.js';

const require = createRequire(import.meta.url);

/** `node:worker_threads` as CommonJS modules see it: piscina reads its `Worker` at each start. */
const threads = require('node:worker_threads') as typeof import('node:worker_threads');

/** The file piscina (5.3) starts every worker thread on: `worker.js` beside its main module. */
export const PISCINA_WORKER_FILE = join(dirname(require.resolve('piscina')), 'worker.js');

/** Threads started through the guard on piscina's worker file (the pin test reads it). */
const piscinaThreads = new WeakSet<object>();

/** Called with each thread piscina starts (unready-exits.ts watches how it ends). */
type ThreadListener = (thread: InstanceType<typeof threads.Worker>) => void;
const threadListeners = new Set<ThreadListener>();

/**
 * Call `listener` with every thread piscina starts from now on, as it is made (before piscina
 * attaches its own listeners, before it counts the worker as its pool's); returns the undo. A
 * listener that throws is skipped for that thread: the start goes on.
 */
export function onPiscinaThread(listener: ThreadListener): () => void {
  threadListeners.add(listener);
  return () => threadListeners.delete(listener);
}

/** The id of the next {@link RefusedWorker}: they count down from -2. */
let nextRefusedId = -2;

/**
 * A worker whose thread the host refused: it emits the refusal as its `error`, then `exit`, a
 * tick later (piscina attaches its listeners after the constructor returns), unless terminated
 * first. Its `threadId` is negative, as no running worker's is, and its own: piscina offers its
 * balancer workers by id alone, which must tell a new pool's refused first worker (counted ready)
 * from a refused spare (ready-dispatch.ts).
 */
export class RefusedWorker extends EventEmitter {
  /** Below -1 (an ended thread's id), one per refused worker: no running worker has it. */
  readonly threadId = nextRefusedId--;
  /** None: the thread never ran. */
  readonly resourceLimits = {};
  private ended = false;

  /** @param refusal what `new Worker` threw (`ERR_WORKER_INIT_FAILED`) */
  constructor(readonly refusal: unknown) {
    super();
    process.nextTick(() => {
      if (this.ended) return;
      // piscina listens from the start; an 'error' nobody listens to would end the process
      if (this.listenerCount('error') > 0) this.emit('error', refusal);
      this.end();
    });
  }

  /** piscina posts the worker's start message with a port: closed, as the thread never reads it. */
  postMessage(_message: unknown, transfer?: readonly unknown[]): void {
    for (const item of transfer ?? []) {
      if (item instanceof threads.MessagePort) item.close();
    }
  }

  /** No thread keeps the process up: nothing to do. */
  ref(): void {}

  /** No thread keeps the process up: nothing to do. */
  unref(): void {}

  /** Ends it (an `exit` a tick later, as a thread's), if not ended yet. */
  terminate(): Promise<number> {
    this.end();
    return Promise.resolve(1);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    process.nextTick(() => this.emit('exit', 1));
  }
}

let guarded = false;

/** Make piscina's refused thread starts fail as workers instead of throwing; idempotent. */
export function guardWorkerStarts(): void {
  if (guarded) return;
  guarded = true;
  const Original = threads.Worker;
  // a proxy, not a subclass: its construct trap may answer with another object (a class's
  // constructor may too, but only by returning before its super() has run); `instanceof`, the
  // prototype and the statics are the original's
  const Guarded = new Proxy(Original, {
    construct(target, args: unknown[], newTarget: new (...a: unknown[]) => object): object {
      const piscinas = args[0] === PISCINA_WORKER_FILE;
      let worker: InstanceType<typeof threads.Worker>;
      try {
        worker = Reflect.construct(target, args, newTarget) as InstanceType<typeof threads.Worker>;
      } catch (err) {
        if (!piscinas || !threadRefused(err)) throw err;
        return new RefusedWorker(err);
      }
      if (piscinas) {
        piscinaThreads.add(worker);
        // outside the try: a listener's throw must not pass for the start's; nor reach piscina,
        // which would lose the thread just started (nobody would own or end it)
        for (const listener of threadListeners) {
          try {
            listener(worker);
          } catch {
            // what that listener watches is lost; the start and the other listeners go on
          }
        }
      }
      return worker;
    },
  });
  Object.defineProperty(threads, 'Worker', {
    value: Guarded,
    writable: true,
    configurable: true,
    enumerable: true,
  });
}

/** Was `worker` started by piscina through the guard (the pin test's check of piscina's shape)? */
export function startedThroughGuard(worker: object): boolean {
  return piscinaThreads.has(worker);
}
