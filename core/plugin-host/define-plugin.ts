/**
 * The plugin model (spec/plugins.md): what a plugin module declares and what its hooks receive.
 * A plugin's default export is `definePlugin({...})`. Hooks run inside the worker pool; they are
 * stateless per call and keep cross-call state in `ctx.store`.
 */
import type { z } from 'zod';
import type { Action } from '../protocol/actions.js';
import type { PassthroughForward } from '../protocol/payloads.js';

/**
 * A namespaced key-value store with TTL, shared by all workers and the main thread (durable). A
 * hook reads its own writes at once; the worker commits them when its task ends (docs/plugins.md).
 */
export interface PluginStore {
  /** The value, or undefined when absent or expired. */
  get<T = unknown>(key: string): T | undefined;
  /** Set a JSON-serialisable value; `ttlMs` omitted ⇒ kept until deleted. */
  set(key: string, value: unknown, ttlMs?: number): void;
  /**
   * Set with a sliding lifetime, for values refreshed on every event (e.g. per-chat memory): the
   * value lives at least `ttlMs` after the last call. A write sets the expiry a little past
   * `ttlMs` (by `min(ttlMs / 2, 1 h)`), and the write is skipped while the stored value is the
   * same and still has `ttlMs` to live, so a hot key costs a read, not a write, and is written at
   * most once per that slack. For a second after this worker read or wrote the key, that stands
   * in for the read. Returns true when it wrote.
   */
  remember(key: string, value: unknown, ttlMs: number): boolean;
  /** Remove a key. */
  delete(key: string): void;
}

/** Structured log calls from a hook; lines are emitted by the host with the plugin name. */
export interface PluginLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** One fronted identity (one `hello`). */
export interface Identity {
  readonly platform: string;
  readonly botId: string;
}

/** What every hook receives besides its input. */
export interface PluginContext<O = unknown> {
  /** The plugin's name as declared in the manifest. */
  readonly name: string;
  /** The plugin's options, parsed by its own `options` schema. */
  readonly options: O;
  /** This plugin's namespace of the shared store. */
  readonly store: PluginStore;
  /** Hook log; lines carry the plugin name. */
  readonly log: PluginLog;
  /** The fronted identities, in hello order. */
  readonly identities: readonly Identity[];
}

/** A forward as a passthrough handler sees it: the contract fields plus the decoded body. */
export interface ForwardInput extends PassthroughForward {
  /** The exact bytes of `bodyB64`. */
  readonly body: Buffer;
}

/** One event produced by a passthrough conversion (a raw MessageEvent; the core validates it). */
export interface ConvertedEvent {
  /** A MessageEvent object (validated by the core's MessageEventSchema afterwards). */
  readonly event: Record<string, unknown>;
  /** `follow_up` kinds usable for this event's session (e.g. `discord.interaction_token`). */
  readonly capabilities?: readonly string[];
}

/** What a passthrough handler returns. No events ⇒ dropped; `reason` says why (counted). */
export interface ConvertResult {
  readonly events: readonly ConvertedEvent[];
  /** Why nothing was produced (e.g. `ping`, `status_callback`, `malformed`). */
  readonly reason?: string;
  /**
   * No events and nothing wrong: the input is normal traffic that needs no event (a ping, a
   * delivery-status callback). It is acked and counted but not kept as a dead letter. Default
   * false: an empty result is a rejection of malformed input, kept in the dead-letter table.
   */
  readonly benign?: boolean;
}

/** What an inbound hook sees: the event as it stands and its envelope facts. */
export interface InboundInput {
  readonly event: Record<string, unknown>;
  readonly sessionKey: string;
  readonly capabilities: readonly string[];
}

/** An inbound hook's verdict: undefined/void ⇒ unchanged; `event` ⇒ replaced; `drop` ⇒ dropped. */
export type InboundResult =
  | undefined
  | void
  | { readonly event?: Record<string, unknown>; readonly capabilities?: readonly string[] }
  | { readonly drop: string };

/** What an outbound hook sees: the action and the frame tags chosen so far. */
export interface OutboundInput {
  readonly action: Action;
  readonly platform?: string;
  readonly botId?: string;
}

/** Why an action is refused: a stable lowercase API code and a message for the agent. */
export interface Rejection {
  readonly code: string;
  readonly message: string;
  /** HTTP status for the agent API; default 400. */
  readonly status?: number;
}

/** An outbound hook's verdict: undefined ⇒ unchanged; amended action/tags; or a rejection. */
export type OutboundResultVerdict =
  | undefined
  | void
  | { readonly action?: Action; readonly platform?: string; readonly botId?: string }
  | { readonly reject: Rejection };

/** The declaration a plugin module exports by default. */
export interface PluginDefinition<O = unknown> {
  /** Must equal the manifest entry's `name`. */
  readonly name: string;
  /** Semver of the plugin, for logs and /v1/status. */
  readonly version?: string;
  /** zod schema of the manifest `options`; absent ⇒ options must be empty. */
  readonly options?: z.ZodType<O>;
  /** Forward platforms converted by this plugin. */
  readonly passthrough?: {
    readonly platforms: readonly string[];
    readonly convert: (
      forward: ForwardInput,
      ctx: PluginContext<O>,
    ) => ConvertResult | Promise<ConvertResult>;
  };
  /** A hook run on every MessageEvent, in manifest order. */
  readonly inbound?: (input: InboundInput, ctx: PluginContext<O>) => InboundResult | Promise<InboundResult>;
  /** A hook run on the listed ops (`'*'` = every op), in manifest order. */
  readonly outbound?: {
    readonly ops: readonly string[] | '*';
    readonly hook: (
      input: OutboundInput,
      ctx: PluginContext<O>,
    ) => OutboundResultVerdict | Promise<OutboundResultVerdict>;
  };
  /** New outbound ops: op name ⇒ zod schema of the whole action object (including `op`). */
  readonly ops?: Readonly<Record<string, z.ZodType>>;
}

/** Brand marking a value as made by {@link definePlugin}. */
export const PLUGIN_BRAND = Symbol.for('relay-sidecar.plugin');

/** Declare a plugin. The identity function with a brand, so the host can verify the export. */
export function definePlugin<O = unknown>(definition: PluginDefinition<O>): PluginDefinition<O> {
  return Object.freeze({ ...definition, [PLUGIN_BRAND]: true });
}

/** True when `value` came from {@link definePlugin}. */
export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return !!value && typeof value === 'object' && (value as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}
