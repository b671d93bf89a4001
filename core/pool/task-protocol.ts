/**
 * The plain-data protocol between the main thread and the pool workers. Only these shapes cross
 * the thread boundary: no classes, no functions, errors as `{code, message}`.
 *
 * One chain runs every plugin of a hook chain in manifest order, and one pool task carries a batch
 * of chains, so a burst of events costs one round trip to the pool, not one per event and plugin.
 * Plugins are referred to by their index in {@link PoolWorkerData.plugins}, sent once per worker.
 */
import type { ErrorData } from '../errors.js';
import type { InvalidAction } from '../plugin-host/action-validator.js';
import type { Identity, Rejection } from '../plugin-host/define-plugin.js';
import type { Action } from '../protocol/actions.js';
import type { MessageEvent, PassthroughForward } from '../protocol/payloads.js';
import type { StoreLimits } from '../store/store-limits.js';

/** One enabled plugin as a worker sees it. */
export interface WorkerPluginRef {
  readonly name: string;
  /** Absolute `file:` URL of the module. */
  readonly url: string;
  /** Raw manifest options; the worker parses them with the plugin's own schema. */
  readonly options: unknown;
}

/** `workerData` of every pool worker. */
export interface PoolWorkerData {
  readonly plugins: readonly WorkerPluginRef[];
  readonly identities: readonly Identity[];
  /** The shared SQLite file; each worker opens its own connection on first store use. */
  readonly dbPath: string;
  /** The size limits of one store write (`store.maxKeyBytes`, `store.maxValueBytes`); default the config's. */
  readonly storeLimits?: StoreLimits;
  /**
   * The process's store gate buffer (store-gate.ts `storeGate`): the worker claims a slot and
   * makes every SQLite call inside it, so the main thread never ends it inside one. Absent from a
   * pool's options, the pool's own factory installs and passes it (piscina-factory.ts); a worker
   * given none (a thread not started by a pool) makes its calls ungated. Taken out before plugins load.
   */
  readonly storeGate?: SharedArrayBuffer;
  /**
   * Progress slots shared with the main thread: a running batch writes
   * `stamp + item * MAX_CHAIN + position + 1` into its slot before each plugin, so a timeout or a
   * dead worker is blamed on the right item and plugin.
   */
  readonly progress: SharedArrayBuffer;
  /** Per slot, when the position in `progress` started (epoch ms, Float64). */
  readonly progressStartedAt: SharedArrayBuffer;
  /** Per slot, the stamp of a task started while the worker's boot still ran (Int32). */
  readonly progressBeforeBoot: SharedArrayBuffer;
  /** Per slot, the stamp of the task holding it, 0 once the pool gave it back (Int32). */
  readonly progressOwner: SharedArrayBuffer;
  /** The key of the worker's boot note (boot-report.ts `BOOT_KEY`); taken out before plugins load. */
  readonly bootKey?: string;
}

/** Which hook a task runs. */
export type HookKind = 'convert' | 'inbound' | 'outbound';

/** What a chain position runs, in logs and metrics: a hook, or (`validate`) a plugin's op schema. */
export type HookLabel = HookKind | 'validate';

/** Most plugins in one chain (a chain position fits 8 bits of a progress value). */
export const MAX_CHAIN = 256;
/** Most chain tasks in one batch (an item index fits 8 bits of a progress value). */
export const MAX_BATCH = 256;
/** Progress values per stamp: `item * MAX_CHAIN + position + 1` stays below it. */
export const SLOT_STAMP_STRIDE = MAX_CHAIN * MAX_BATCH;

/** One chain as the host builds it: plugin indices in manifest order, and the hook input. */
export type ChainTask =
  | { readonly k: 'convert'; readonly chain: readonly number[]; readonly forward: PassthroughForward }
  | { readonly k: 'inbound'; readonly chain: readonly number[]; readonly input: InboundTaskInput }
  | {
      readonly k: 'outbound';
      readonly chain: readonly number[];
      readonly input: OutboundTaskInput;
      /**
       * The action's op is plugin-defined and `input.action` is the agent's, unchecked: position 0
       * (`chain[0]`, the plugin defining the op) runs the op's schema on it first; the outbound
       * hooks are positions 1 and on.
       */
      readonly validate?: true;
    };

/**
 * A pool task: several chains run one after the other by one worker (one round trip for a burst
 * of events), with the progress slot it reports into, or a warm-up that loads every plugin.
 */
export type PoolTask =
  | { readonly k: 'warm' }
  | {
      readonly k: 'batch';
      readonly slot: number;
      readonly stamp: number;
      readonly items: readonly ChainTask[];
    };

/** Input of an inbound chain. */
export interface InboundTaskInput {
  readonly event: MessageEvent;
  readonly sessionKey: string;
  readonly capabilities: readonly string[];
}

/** Input of an outbound chain. */
export interface OutboundTaskInput {
  readonly action: Action;
  readonly platform?: string;
  readonly botId?: string;
}

/** Log levels a hook may use. */
export type HookLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One collected hook log call: chain position, level, message, fields. */
export type HookLogEntry = readonly [number, HookLogLevel, string, Record<string, unknown>?];

/**
 * What a convert task produces: validated events, or none with the converter's reason (its final
 * verdict on the input). An invalid event fails the task instead (`CORE_ERR_PLUGIN_BAD_RESULT`).
 */
export interface ConvertValue {
  readonly events: readonly { event: MessageEvent; capabilities: string[] }[];
  readonly reason?: string;
  readonly benign?: boolean;
}

/**
 * What an inbound chain produces: the final capabilities and, when a hook replaced it, the event
 * (absent: the caller keeps its own copy); `unchanged` when no hook replaced either; or a drop by
 * the plugin at `at`.
 */
export type InboundValue =
  | { readonly event?: MessageEvent; readonly capabilities: string[] }
  | { readonly unchanged: true }
  | { readonly drop: string; readonly at: number };

/**
 * What an outbound chain produces: the final action and tags (with `amendedAt`, the position of
 * the last hook that replaced the action, when one did), a rejection by the plugin at `at`, or
 * (a `validate` task) the agent's action failing its op's schema, no hook run.
 */
export type OutboundValue =
  | { readonly invalid: InvalidAction }
  | {
      readonly action: Action;
      readonly platform?: string;
      readonly botId?: string;
      readonly amendedAt?: number;
    }
  | { readonly reject: Rejection; readonly at: number };

/**
 * Store writes a worker refused for their size since its last reply, per plugin and code, with the
 * latest refusal's message (store-refusals.ts); carried by the first reply of a batch.
 */
export interface StoreRefusal {
  readonly plugin: string;
  readonly code: string;
  readonly count: number;
  readonly reason: string;
}

/** Success: the chain's value, hook logs and each plugin's hook duration (ms, by position). */
export interface TaskSuccess<V = unknown> {
  readonly ok: true;
  readonly value: V;
  readonly logs?: readonly HookLogEntry[];
  readonly ms: readonly number[];
  readonly refused?: readonly StoreRefusal[];
}

/** Failure of the plugin at chain position `at`. */
export interface TaskFailure {
  readonly ok: false;
  readonly at: number;
  readonly error: ErrorData;
  readonly logs?: readonly HookLogEntry[];
  readonly refused?: readonly StoreRefusal[];
}

/** What every task resolves to; a worker never throws across the boundary. */
export type TaskReply<V = unknown> = TaskSuccess<V> | TaskFailure;

/** Reply of a `warm` task: plugins that failed to load in the worker. */
export interface WarmValue {
  readonly failed: readonly { name: string; error: ErrorData }[];
}
