/**
 * Every pool worker that ends without the pool ending it is seen, counted and logged at a bounded
 * rate (docs/decisions.md, "Worker deaths"). piscina reports nothing for a worker that exits with
 * no task (it only starts a replacement, `pool.minThreads`), so a module whose timer ran a worker
 * out of memory, or a native crash of the thread, killed every worker shortly after it imported
 * the module — a crash loop burning a core, which nothing logged or counted.
 *
 * The pool's own ends — a timeout's abort, an idle spare retired, the close — all go through
 * piscina destroying the worker first (`workerDestroy`, the thread still running); an end nobody
 * asked for shows as the thread's `error` or `exit` first. Listeners put in front of piscina's own
 * on each thread tell the two apart. A hook's `process.exit` also ends its worker on purpose
 * (exit-trap.ts): the worker says so first ({@link ExitNote}), and its task reports it.
 */
import { MessagePort, type Worker } from 'node:worker_threads';
import { errorMessage, scrubUrls } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import { ThrottledReport } from '../log/throttled-report.js';
import type { Metrics } from '../metrics/metrics.js';
import { BOOT_KEY, BOOT_NOTE, type BootNote, BootReport, type Death } from './boot-report.js';
import { monotonicMs } from './progress-slots.js';

/** What a worker posts just before it exits because its item's hook called `process.exit`. */
export interface ExitNote {
  readonly k: 'relay-worker-exit';
  /** The batch's progress slot and stamp: which task the exit fails. */
  readonly slot: number;
  readonly stamp: number;
  /** What the hook called, e.g. `process.exit(1)`. */
  readonly call: string;
  /** The exiting worker's `threadId`. */
  readonly thread: number;
}

/** A worker as piscina describes it in its `workerCreate` and `workerDestroy` events. */
interface PoolWorker {
  readonly id: number;
  /** Tasks it runs (`Infinity` for an abortable one, as all of the pool's are). */
  readonly currentUsage: number;
}

/** The parts of a piscina pool watched. */
export interface WatchedPool {
  on(event: 'workerCreate' | 'workerDestroy', listener: (worker: PoolWorker) => void): unknown;
  readonly threads: readonly Worker[];
}

/** Most exit notes kept until their task reads them (one per thread at a time is normal). */
const MAX_NOTES = 64;

/** Least time between two log lines about deaths outside a task, ms. */
export const DEATH_LOG_INTERVAL_MS = 60_000;
/** A worker that dies this soon after it started counts towards a crash loop, ms. */
export const EARLY_DEATH_MS = 10_000;
/** Early deaths within {@link CRASH_LOOP_WINDOW_MS} that make a crash loop. */
export const CRASH_LOOP_DEATHS = 5;
/** The window of a crash loop; a quiet one ends it (the next loop is logged again), ms. */
export const CRASH_LOOP_WINDOW_MS = 60_000;

interface Watched {
  readonly bornAt: number;
  /** It said its plugins are imported ({@link BootNote}); a death before is one during boot. */
  booted: boolean;
  /** The pool ended it (piscina destroyed it while it ran): not a death. */
  retired: boolean;
  /** The thread failed (out of memory, a runtime error): piscina destroys it next. */
  failed?: unknown;
  /** A task was running when it failed or exited. */
  busy: boolean;
  /** It failed while still loading its entry: a failed start (worker-starts.ts), not a death. */
  unstarted?: true;
}

/** Construction options of {@link WorkerDeaths}. */
export interface WorkerDeathsOptions {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The configured plugins' names, for the crash-loop line. */
  readonly plugins: readonly string[];
  /** Takes a booted worker's port for store refusals outside a batch (its boot note's). */
  readonly onRefusals?: (port: MessagePort) => void;
  /** A worker of `pool` has imported the plugins (its boot note): one runs there for certain. */
  readonly onBooted?: (pool: WatchedPool) => void;
  /**
   * Is thread `id` still loading its entry (a new pool's first worker, ready to piscina at once)?
   * Its exit then is a failed start, reported by unready-exits.ts, and its error one reported by
   * worker-starts.ts ({@link WorkerDeaths.loadFailure}): not a death.
   */
  readonly loading?: (id: number) => boolean;
  /** The monotonic clock, ms; default {@link monotonicMs}. */
  readonly now?: () => number;
}

/** Watches a piscina pool's workers for deaths; also keeps the workers' {@link ExitNote}s. */
export class WorkerDeaths {
  private readonly watched = new Map<number, Watched>();
  /** Errors of threads this class saw fail: piscina re-emits them as its own `error`. */
  private readonly failures = new WeakSet<object>();
  /** Errors of threads that failed while loading their entry: failed starts, not deaths. */
  private readonly loadFailures = new WeakSet<object>();
  /**
   * Exit notes by progress slot, until the task's failure reads them; `ended` once the thread
   * named has ended on its own (plugin code can post a note too: only that makes one true).
   */
  private readonly notes = new Map<number, ExitNote & { ended?: true }>();
  /** Threads that said they exit for their hook's process.exit (their task reports it). */
  private readonly announced = new Set<number>();
  private readonly now: () => number;
  /** Deaths outside a task: the first logged at once, then a summary at most once a minute. */
  private readonly idleDeaths: ThrottledReport<Death>;
  /** Deaths while importing the plugins, and plugins that failed to import. */
  private readonly boots: BootReport;
  private early: number[] = [];
  private looping = false;
  private closed = false;

  constructor(
    piscina: WatchedPool,
    private readonly options: WorkerDeathsOptions,
  ) {
    this.now = options.now ?? monotonicMs;
    const { log, metrics } = options;
    const code = 'CORE_ERR_PLUGIN_WORKER_DIED';
    this.idleDeaths = new ThrottledReport({
      intervalMs: DEATH_LOG_INTERVAL_MS,
      now: this.now,
      first: (death) => reportError(log, metrics, code, 'plugin worker died outside a task', death, 'error'),
      repeated: (count, { reason }) =>
        reportError(log, metrics, code, 'plugin workers died outside a task', { count, reason }, 'error'),
    });
    this.boots = new BootReport({ log, metrics, plugins: options.plugins, now: this.now });
    this.watch(piscina);
  }

  /** Watch the workers of `piscina` too (a pool that replaced one that gave up: plugin-pool.ts). */
  watch(piscina: WatchedPool): void {
    piscina.on('workerCreate', (worker) => this.created(piscina, worker));
    piscina.on('workerDestroy', (worker) => {
      const watched = this.watched.get(worker.id);
      if (watched && watched.failed === undefined) watched.retired = true;
    });
  }

  /**
   * Take a worker message: an {@link ExitNote} is kept for its task; anything else is ignored.
   * Plugin code can post on the same port: a note is taken only from a thread still watched and
   * at most {@link MAX_NOTES} are kept, so forged ones cost nothing but the forger's own report.
   */
  receive(message: unknown): void {
    const m = message as Partial<ExitNote> | null;
    if (typeof m !== 'object' || m === null || m.k !== 'relay-worker-exit') return;
    const { slot, stamp, call, thread } = m;
    if (typeof slot !== 'number' || typeof stamp !== 'number' || typeof thread !== 'number') return;
    if (typeof call !== 'string' || !this.watched.has(thread)) return;
    this.notes.delete(slot);
    this.notes.set(slot, { k: m.k, slot, stamp, call: call.slice(0, 200), thread });
    // oldest first: a note whose task was settled otherwise (a timeout) is never taken
    for (const old of this.notes.keys()) {
      if (this.notes.size <= MAX_NOTES) break;
      this.notes.delete(old);
    }
    this.announced.add(thread);
  }

  /**
   * The exit note of the task in `slot` with `stamp`, once (a hook's process.exit ended it): only
   * if the thread it names has ended by itself, as the worker's own note is read (before the exit
   * that fails the task). A note a plugin forged for a task that then timed out or failed otherwise
   * names a thread still running or ended by the pool, and is dropped.
   */
  takeExit(slot: number, stamp: number): string | undefined {
    const note = this.notes.get(slot);
    if (note === undefined) return undefined;
    this.notes.delete(slot);
    return note.stamp === stamp && note.ended ? note.call : undefined;
  }

  /** Is `err` a worker's failure this class reports (piscina's `error` event repeats it)? */
  reports(err: unknown): boolean {
    return typeof err === 'object' && err !== null && this.failures.has(err);
  }

  /** Is `err` a thread's failure while loading its entry: a failed start (worker-starts.ts)? */
  loadFailure(err: unknown): boolean {
    return typeof err === 'object' && err !== null && this.loadFailures.has(err);
  }

  /**
   * Workers running now that piscina had ready (watched), less those ending: one piscina is
   * terminating (a timeout's abort, an idle spare) or whose thread failed runs no more tasks,
   * though its exit may come after a replacement's failure to start.
   */
  get alive(): number {
    let alive = 0;
    for (const watched of this.watched.values())
      if (!watched.retired && watched.failed === undefined) alive++;
    return alive;
  }

  /** Log the deaths not yet logged, and stop. */
  close(): void {
    this.idleDeaths.close();
    this.boots.close();
    this.closed = true;
  }

  private created(piscina: WatchedPool, worker: PoolWorker): void {
    // kept: a thread's id reads -1 once it has exited, as a refused one's does (thread-refusals.ts)
    const id = worker.id;
    if (id < 0) return;
    const thread = piscina.threads.find((w) => w.threadId === id);
    if (!thread || this.watched.has(id)) return;
    const watched: Watched = { bornAt: this.now(), booted: false, retired: false, busy: false };
    this.watched.set(id, watched);
    // this thread's own port, so the note is known to come from it; with the key, from its core
    // code (plugin code posts on the same port, and cannot read the key: boot-report.ts)
    thread.on('message', (message: unknown) => {
      const note = message as Partial<BootNote> | null;
      if (note?.k !== BOOT_NOTE || note.key !== BOOT_KEY || watched.booted) return;
      watched.booted = true;
      this.boots.noted(note);
      this.options.onBooted?.(piscina);
      if (note.refusals instanceof MessagePort) this.options.onRefusals?.(note.refusals);
    });
    // in front of piscina's listeners: they destroy the worker (`workerDestroy`) as they run
    thread.prependListener('error', (err: unknown) => {
      // its entry threw as it loaded: a failed start, as an exit then (it was a `boot` death)
      if (this.options.loading?.(id)) watched.unstarted = true;
      if (typeof err === 'object' && err !== null)
        (watched.unstarted ? this.loadFailures : this.failures).add(err);
      watched.failed = err;
      watched.busy = worker.currentUsage > 0;
    });
    thread.prependListener('exit', (code: number) => {
      this.watched.delete(id);
      // a hook's process.exit: its task fails and is logged as such
      const noted = this.announced.delete(id);
      if (watched.failed === undefined) watched.busy = worker.currentUsage > 0;
      if (noted && watched.failed === undefined && !watched.retired) this.ended(id);
      if (this.closed || (watched.failed === undefined && (watched.retired || noted))) return;
      // it never ran the worker's code: a failed start (unready-exits.ts, worker-starts.ts), counted there
      if (watched.unstarted || (watched.failed === undefined && this.options.loading?.(id))) return;
      const reason =
        watched.failed === undefined
          ? `worker thread exited with code ${code}`
          : // as a stray error's reason: a URL in an error may carry a credential
            scrubUrls(errorMessage(watched.failed)).slice(0, 500);
      this.died(watched, reason);
    });
  }

  /** Thread `id` ended by itself after a note: the notes naming it are the task's to take. */
  private ended(id: number): void {
    for (const note of this.notes.values()) if (note.thread === id) note.ended = true;
  }

  private died(watched: Watched, reason: string): void {
    const now = this.now();
    const lifeMs = Math.round(now - watched.bornAt);
    const during = watched.booted ? (watched.busy ? 'task' : 'idle') : 'boot';
    this.options.metrics.poolWorkerDeaths.inc({ during });
    // a death while importing is early whatever the import took: a module killing every worker
    // that imports it is a crash loop however slowly it does
    if (lifeMs < EARLY_DEATH_MS || during === 'boot') this.earlyDeath(now);
    // the tasks it had never started (classify-failure.ts): logged here, not by each task
    if (during === 'boot') this.boots.died({ reason, lifeMs });
    // a death during a task is logged by that task's failure
    else if (during === 'idle') this.idleDeaths.add({ reason, lifeMs });
  }

  /** Count an early death; the first time they make a crash loop, say so once. */
  private earlyDeath(now: number): void {
    const recent = this.early.filter((at) => now - at < CRASH_LOOP_WINDOW_MS);
    // a whole window without an early death ends a loop: the next one is logged again
    if (recent.length === 0) this.looping = false;
    recent.push(now);
    this.early = recent.slice(-CRASH_LOOP_DEATHS);
    if (this.looping || recent.length < CRASH_LOOP_DEATHS) return;
    this.looping = true;
    reportError(
      this.options.log,
      this.options.metrics,
      'CORE_ERR_PLUGIN_WORKER_CRASH_LOOP',
      'plugin workers keep dying right after they start: a crash loop',
      {
        deaths: recent.length,
        withinMs: CRASH_LOOP_WINDOW_MS,
        plugins: this.options.plugins,
        action:
          'a plugin module is killing every worker that imports it (a timer running it out of memory, a native ' +
          'addon crashing), or a hook does on every event (see its "plugin task failed" lines): set "enabled": ' +
          'false on that plugin, else on the one added or changed most recently, in plugins.json and restart, ' +
          'then report it to its author',
      },
      'error',
    );
  }
}
