/**
 * The state a pool worker keeps between tasks: plugin modules imported once by absolute file URL,
 * their parsed options, and one SQLite connection (opened on first store use). Everything comes
 * from `workerData`, so a replacement worker rebuilds the same state on its own.
 */
import { MessageChannel, type MessagePort, parentPort, threadId, workerData } from 'node:worker_threads';
import { errorMessage, RelayError, toErrorData } from '../errors.js';
import { isPluginDefinition } from '../plugin-host/define-plugin.js';
import type { ChainPlugin } from '../plugin-host/hook-chain.js';
import { parsePluginOptions } from '../plugin-host/plugin-options.js';
import type { KvStore } from '../store/kv-store.js';
import { namespaceView } from '../store/plugin-store-view.js';
import { GateSlot, gatedCalls } from '../store/store-calls.js';
import type { RefusalCode } from '../store/store-limits.js';
import { openWorkerStore } from '../store/worker-store.js';
import { BOOT_NOTE, type BootNote } from './boot-report.js';
import type { ExitTrap } from './exit-trap.js';
import { monotonicMs, progressValue } from './progress-slots.js';
import { type BatchEnv, runBatch, type Writer } from './run-batch.js';
import { RefusalTally } from './store-refusals.js';
import type { PoolTask, PoolWorkerData, TaskFailure, TaskReply, WarmValue } from './task-protocol.js';
import type { ExitNote } from './worker-deaths.js';

const data = workerData as PoolWorkerData;
/**
 * The key of this worker's boot note, taken out of `workerData` before any plugin module loads (it
 * reads the same object), with the port's `postMessage` as it is now (a module could replace it):
 * a note plugin code posts cannot pass for this worker's (boot-report.ts `BOOT_KEY`).
 */
const bootKey = data.bootKey ?? '';
delete (data as { bootKey?: string }).bootKey;
const postBootNote = parentPort ? parentPort.postMessage.bind(parentPort) : undefined;
/**
 * This worker's SQLite calls: inside its store gate, short waits for a lock (store-calls.ts). The
 * buffer is taken out before any plugin loads, as the boot key is: plugins cannot hold the gates.
 */
const storeCalls = gatedCalls(data.storeGate ? GateSlot.claim(data.storeGate, threadId) : undefined);
delete (data as { storeGate?: SharedArrayBuffer }).storeGate;
const progress = new Int32Array(data.progress);
const progressStartedAt = new Float64Array(data.progressStartedAt);
const progressBeforeBoot = new Int32Array(data.progressBeforeBoot);
const progressOwner = new Int32Array(data.progressOwner);
const identities = Object.freeze(data.identities.map((i) => Object.freeze({ ...i })));
const plugins = new Map<number, Promise<ChainPlugin>>();
let kv: KvStore | undefined;
/** Store writes refused for their size since the last reply (carried by the next one). */
const refusals = new RefusalTally();
/**
 * The worker's own port for refusals counted outside a batch (a plugin's timer), handed to the
 * main thread with the boot note: only core code holds it, as only core code returns a reply.
 */
let refusalPort: MessagePort | undefined;
/** A batch runs: the refusals ride on its replies. */
let inBatch = false;
/** The send of refusals counted outside a batch, once scheduled. */
let refusalSend: NodeJS.Timeout | undefined;
/** When refusals were last sent ({@link monotonicMs}). */
let refusalSentAt = Number.NEGATIVE_INFINITY;
/** Least time between two sends outside a batch, ms: a timer refusing in a loop sends ten a second. */
const REFUSAL_SEND_MS = 100;
/**
 * While a batch runs: who makes each store write (its writes are held until the batch ends). One
 * batch at a time per worker (piscina's `concurrentTasksPerWorker` is left at 1), so the hold is
 * the running batch's alone.
 */
let holding: (() => Writer) | undefined;
/** The worker's exit trap (set by {@link preload}, before any plugin loads). */
let exits: ExitTrap | undefined;
/**
 * What a task awaits before it starts ({@link preload}): the boot note posted, or
 * {@link BOOT_WAIT_MS} since the worker started; undefined once either happened.
 */
let booting: Promise<void> | undefined;
/**
 * Longest the worker's tasks wait for its boot, ms, counted once from its start: past it they run
 * as before the wait, each chain awaiting only its own plugins. Once per worker and below the
 * pool's queue allowance (task-watchdog.ts `QUEUE_WAIT_ALLOWANCE_MS`, 10 s): a wait per task of
 * 30 s let one module whose import never ends there (awaiting what never comes) fail every task of
 * every plugin sent to the worker (`CORE_ERR_PLUGIN_POOL_SATURATED`), the watchdog ending the
 * worker and its replacement hanging the same, where before only that plugin's hooks failed.
 */
const BOOT_WAIT_MS = 5_000;
/** Set once every plugin's import has settled (just before the boot note). */
let bootOver = false;
/** The batch running (one at a time), while it was started before the boot was over. */
let startedEarly: { readonly slot: number; readonly stamp: number } | undefined;

/**
 * The worker's connection, opened lazily: plugins that never use the store never open it. Opened
 * during a batch, it holds that batch's writes like one opened before.
 */
function sharedStore(): KvStore {
  if (!kv) {
    kv = openWorkerStore(data.dbPath, data.storeLimits, storeCalls);
    if (holding) kv.hold(holding);
  }
  return kv;
}

async function load(index: number): Promise<ChainPlugin> {
  const ref = data.plugins[index];
  if (!ref) throw new RelayError('CORE_ERR_PLUGIN_LOAD_FAILED', `no plugin at index ${index}`);
  let mod: { default?: unknown };
  try {
    mod = (await import(ref.url)) as { default?: unknown };
  } catch (err) {
    const reason = errorMessage(err);
    throw new RelayError(
      'CORE_ERR_PLUGIN_LOAD_FAILED',
      `plugin "${ref.name}": module failed to load in a worker: ${reason}`,
    );
  }
  const definition = mod.default;
  if (!isPluginDefinition(definition) || definition.name !== ref.name) {
    throw new RelayError(
      'CORE_ERR_PLUGIN_LOAD_FAILED',
      `plugin "${ref.name}": module export changed since start`,
    );
  }
  const options = parsePluginOptions(definition, ref.options);
  if (!options.ok) {
    throw new RelayError(
      'CORE_ERR_PLUGIN_OPTIONS_INVALID',
      `plugin "${ref.name}": options: ${options.problem}`,
    );
  }
  const base = {
    name: ref.name,
    options: options.value,
    store: namespaceView(sharedStore, ref.name, (code, message) => refused(ref.name, code, message)),
    identities,
  };
  return { definition, context: (log) => ({ ...base, log }) };
}

/**
 * Tally a refused write. Outside a batch it is sent soon on the worker's own port rather than
 * with the next reply: piscina ends a worker (an idle spare retired, a neighbour's timeout) with
 * no word to it first, and a tally waiting for a next task was lost with it.
 */
function refused(plugin: string, code: RefusalCode, message: string): void {
  refusals.add(plugin, code, message);
  if (inBatch || refusalSend || !refusalPort) return;
  const waitMs = Math.max(0, refusalSentAt + REFUSAL_SEND_MS - monotonicMs());
  refusalSend = setTimeout(sendRefusals, waitMs).unref();
}

/** Send the refusals counted since the last reply, unless a batch now carries them. */
function sendRefusals(): void {
  clearTimeout(refusalSend);
  refusalSend = undefined;
  if (inBatch || !refusalPort) return;
  const tally = refusals.drain();
  if (!tally) return;
  refusalSentAt = monotonicMs();
  refusalPort.postMessage(tally);
}

/** The plugin at `index`, imported once per worker (the promise is cached, failures included). */
function plugin(index: number): Promise<ChainPlugin> {
  let loading = plugins.get(index);
  if (!loading) {
    loading = load(index);
    // a failure is reported by the task that awaits it; never an unhandled rejection
    loading.catch(() => undefined);
    plugins.set(index, loading);
  }
  return loading;
}

/** The reply to each item of a task whose slot is no longer its own (read by nobody, in the pool). */
const ORPHANED: TaskFailure = {
  ok: false,
  at: 0,
  error: { code: 'CORE_ERR_PLUGIN_WORKER_START_FAILED', message: 'the pool no longer waits for this task' },
};

/** Run one task. Never throws: the reply is plain data (one reply per batch item). */
export async function handleTask(task: PoolTask): Promise<TaskReply[] | TaskReply<WarmValue>> {
  if (task.k === 'warm') return warm();
  // a task starts (its progress slot written) only once the plugins are imported: a worker that
  // dies importing them fails its tasks as a boot failure, not as the hook at position 0
  if (booting) await booting;
  // a task the pool no longer waits for runs no hook: piscina.run threw as it started a worker for
  // it (the host refused a thread), and kept it queued; the pool failed it and gave its slot back
  if (Atomics.load(progressOwner, task.slot) !== task.stamp) return task.items.map(() => ORPHANED);
  // past the boot wait with the import still running: the slot says so until the boot is over,
  // so a death meanwhile is reported once, as the boot's, not also as this task's hook's
  if (!bootOver) {
    startedEarly = { slot: task.slot, stamp: task.stamp };
    Atomics.store(progressBeforeBoot, task.slot, task.stamp);
  }
  const mark = (item: number, position: number) => {
    // time first: the main thread reads it after an atomic load of the progress value
    progressStartedAt[task.slot] = monotonicMs();
    Atomics.store(progress, task.slot, progressValue(task.stamp, item, position));
  };
  const env: BatchEnv = {
    plugin,
    enter: (item, position) => {
      exits?.enter(item, position);
      mark(item, position);
    },
    hold: (writer) => {
      holding = writer;
      kv?.hold(writer);
    },
    flush: () => kv?.flush(),
    release: () => {
      holding = undefined;
      return kv?.release<Writer>();
    },
    left: () => {
      const made = exits?.leave();
      if (!made) return;
      // the item's hook tried to end the worker: it does end, as the spec says, the progress slot
      // blaming that item and position and the note saying what was called; the note is read
      // before the exit (node delivers a thread's messages before its 'exit' event)
      mark(made.item, made.position);
      const { call } = made.attempt;
      const note: ExitNote = {
        k: 'relay-worker-exit',
        slot: task.slot,
        stamp: task.stamp,
        call,
        thread: threadId,
      };
      parentPort?.postMessage(note);
      exits?.exit(made.attempt.exitCode);
    },
  };
  // what was counted since the last reply goes now, not with this batch's, which a timeout loses
  sendRefusals();
  inBatch = true;
  const replies = await runBatch(task.items, env).finally(() => {
    startedEarly = undefined;
    inBatch = false;
  });
  // the refusals since the last reply (a timer's too) ride on this one: a reply is core code's
  const refused = refusals.drain();
  if (refused && replies[0]) replies[0] = { ...replies[0], refused };
  return replies;
}

/** Import every plugin (each once: {@link plugin} keeps its promise); those that failed, with why. */
async function importAll(): Promise<{ index: number; reason: unknown }[]> {
  const results = await Promise.allSettled(data.plugins.map((_, i) => plugin(i)));
  return results.flatMap((r, i) => (r.status === 'rejected' ? [{ index: i, reason: r.reason }] : []));
}

/** Import every plugin now (start-up and replacement workers) and report which failed. */
async function warm(): Promise<TaskReply<WarmValue>> {
  const failed = (await importAll()).map(({ index, reason }) => ({
    name: data.plugins[index]?.name ?? String(index),
    error: toErrorData(reason, 'CORE_ERR_PLUGIN_LOAD_FAILED'),
  }));
  return { ok: true, value: { failed }, ms: [] };
}

/**
 * Keep the worker's exit trap, and start importing all plugins as soon as the worker boots, so
 * its first task finds them ready.
 */
export function preload(trap: ExitTrap): void {
  exits = trap;
  const booted = importAll().then(async (failures) => {
    const failed = failures.map(({ index, reason }) => ({
      name: data.plugins[index]?.name ?? '',
      reason: errorMessage(reason),
    }));
    // the refusals port travels with the note: the main thread takes it only with the key
    const channel = new MessageChannel();
    const note: BootNote = { k: BOOT_NOTE, key: bootKey, failed, refusals: channel.port2 };
    // a turn later: after piscina's own ready message (posted in the microtasks that follow the
    // entry's evaluation), since the main thread hears a worker's messages only from its ready on
    await new Promise<void>((resolve) => setImmediate(resolve));
    // cleared before the note, so a death between the two is at worst reported twice, never not
    bootOver = true;
    if (startedEarly) Atomics.store(progressBeforeBoot, startedEarly.slot, 0);
    // the main thread counts a death before this as one during boot (worker-deaths.ts); tasks
    // start after it, so the note is read before anything they cause
    postBootNote?.(note, [channel.port2]);
    refusalPort = channel.port1;
    refusalPort.unref();
    // what timers refused while the plugins were imported, if no batch carries it
    sendRefusals();
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, BOOT_WAIT_MS).unref();
  });
  // after the note is posted (or the wait is over), never before: tasks start once it is read
  booting = Promise.race([booted, late]).then(() => {
    clearTimeout(timer);
    booting = undefined;
  });
}
