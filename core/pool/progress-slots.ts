/**
 * Progress slots: SharedArrayBuffers with one slot per task in flight, where the worker records
 * which batch item and chain position it is running, and since when. When a task times out or its
 * worker dies, the main thread reads the slot to blame the right plugin — no message is needed
 * from a worker that is stuck in a loop or already gone.
 *
 * A slot is reused by later tasks, so each use gets a generation stamp; a value written under an
 * older stamp (a terminated worker's last write) reads as "not started".
 */
import { MAX_CHAIN, SLOT_STAMP_STRIDE } from './task-protocol.js';

/** Generations before the stamp wraps (the largest value, stamp + stride, stays inside an Int32). */
const GENERATIONS = Math.floor((2 ** 31 - 1) / SLOT_STAMP_STRIDE) - 1;

/** A claimed slot. */
export interface SlotLease {
  readonly slot: number;
  readonly stamp: number;
}

/** Where a task is: batch item and chain position. */
export interface SlotProgress {
  readonly item: number;
  readonly position: number;
}

/** The progress value a worker writes for `item`/`position` under `stamp`. */
export function progressValue(stamp: number, item: number, position: number): number {
  return stamp + item * MAX_CHAIN + position + 1;
}

/**
 * Milliseconds on the process's monotonic clock (`process.hrtime`, CLOCK_MONOTONIC), the same
 * in every thread (`performance.now()` is not: each worker counts from its own start). Plugin
 * budgets are measured with it, so a step of the wall clock (an NTP correction, the date set by
 * hand) neither stretches a hung plugin's budget nor cuts a running one short.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The slot table of one pool. */
export class ProgressSlots {
  /** Progress values, shared with every worker through `workerData`. */
  readonly buffer: SharedArrayBuffer;
  /** Start time ({@link monotonicMs}) of the position last written, per slot; shared the same way. */
  readonly startedBuffer: SharedArrayBuffer;
  /**
   * Per slot, the stamp of a task its worker started before its boot was over (past the boot
   * wait, worker-runtime.ts), until the boot is; shared the same way.
   */
  readonly bootBuffer: SharedArrayBuffer;
  /**
   * Per slot, the stamp of the task holding it, 0 once given back: a worker runs no hook of a task
   * whose slot is no longer its own (worker-runtime.ts); shared the same way.
   */
  readonly ownerBuffer: SharedArrayBuffer;
  private readonly view: Int32Array;
  private readonly started: Float64Array;
  private readonly boot: Int32Array;
  private readonly owner: Int32Array;
  private readonly free: number[];
  private generation = 0;

  constructor(readonly size: number) {
    this.buffer = new SharedArrayBuffer(size * Int32Array.BYTES_PER_ELEMENT);
    this.view = new Int32Array(this.buffer);
    this.startedBuffer = new SharedArrayBuffer(size * Float64Array.BYTES_PER_ELEMENT);
    this.started = new Float64Array(this.startedBuffer);
    this.bootBuffer = new SharedArrayBuffer(size * Int32Array.BYTES_PER_ELEMENT);
    this.boot = new Int32Array(this.bootBuffer);
    this.ownerBuffer = new SharedArrayBuffer(size * Int32Array.BYTES_PER_ELEMENT);
    this.owner = new Int32Array(this.ownerBuffer);
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }

  /** Claim a slot, or undefined when every slot is in use (the pool is saturated). */
  acquire(): SlotLease | undefined {
    const slot = this.free.pop();
    if (slot === undefined) return undefined;
    this.generation = (this.generation % GENERATIONS) + 1;
    const stamp = this.generation * SLOT_STAMP_STRIDE;
    Atomics.store(this.view, slot, 0);
    Atomics.store(this.boot, slot, 0);
    Atomics.store(this.owner, slot, stamp);
    return { slot, stamp };
  }

  /**
   * The item and chain position running (or last started) under `lease`, or undefined when the
   * worker never started it (still queued, or the worker died before picking it up).
   */
  progress(lease: SlotLease): SlotProgress | undefined {
    const value = Atomics.load(this.view, lease.slot) - lease.stamp - 1;
    if (value < 0 || value >= SLOT_STAMP_STRIDE) return undefined;
    return { item: Math.floor(value / MAX_CHAIN), position: value % MAX_CHAIN };
  }

  /**
   * When the progress returned by {@link progress} started ({@link monotonicMs}). The worker writes the time
   * before the atomic progress store, so after an atomic load of the progress this read is current.
   */
  startedAt(lease: SlotLease): number {
    return this.started[lease.slot] ?? 0;
  }

  /**
   * Did the worker start the task under `lease` before its plugins were imported, and was their
   * import still running when the task ended? A death then is the boot's, not the hook's.
   */
  beforeBoot(lease: SlotLease): boolean {
    return Atomics.load(this.boot, lease.slot) === lease.stamp;
  }

  /** Return a slot once its task has settled. */
  release(lease: SlotLease): void {
    Atomics.store(this.owner, lease.slot, 0);
    this.free.push(lease.slot);
  }

  /** Slots in use. */
  get inUse(): number {
    return this.size - this.free.length;
  }
}
