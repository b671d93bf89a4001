/**
 * What the agent API needs from the rest of the sidecar, as small structural interfaces.
 *
 * The API depends on these shapes, not on the classes (RelayClient, PluginHost, Inbox,
 * PullDelivery), so it can be wired to the real pieces and tested with minimal stand-ins.
 */
import type { Config } from '../../core/config/schema.js';
import type { Clock } from '../../core/di/clock.js';
import type { Logger } from '../../core/log/logger.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { Action, OutboundResult } from '../../core/protocol/actions.js';
import type { Descriptor } from '../../core/protocol/payloads.js';

/** The relay client's lifecycle states, as reported by `/v1/status` and `/readyz`. */
export type RelayState = 'connecting' | 'ready' | 'reconnecting' | 'idle' | 'revoked' | 'stopped';

/** Frame tags of an outbound action: which fronted identity sends it. */
export interface OutboundTags {
  readonly platform?: string;
  readonly botId?: string;
}

/** The relay client as the API uses it. */
export interface ApiRelayClient {
  readonly state: RelayState;
  /** Descriptors of the current (or last) connection, by platform. */
  descriptors(): ReadonlyMap<string, Descriptor>;
  /** Op gating against the descriptor of `platform` (the session default when omitted). */
  opAllowed(op: string, platform?: string): boolean;
  /** Send one action; resolves with the connector's or a synthesised result, never rejects. */
  send(action: Action, tags: OutboundTags): Promise<OutboundResult>;
  /** `get_chat_info`, answered by the connector when advertised, else locally. */
  getChatInfo(chatId: string): Promise<{ name: string; type: string }>;
  /** Write an `interrupt` frame; false when no socket is ready. */
  interrupt(sessionKey: string, reason: string | null): boolean;
}

/**
 * `validateAction`'s verdict: the parsed action, or why it is refused. A plugin-defined op's
 * action passes unchanged: its schema runs in the pool with {@link ApiPluginHost.runOutbound}.
 */
export type ActionValidation =
  | { readonly ok: true; readonly action: Action }
  | {
      readonly ok: false;
      readonly status: number;
      readonly code: string;
      readonly message: string;
      readonly issues?: readonly unknown[];
    };

/**
 * The outbound plugin chain's verdict. `invalid`: the action failed its plugin-defined op's schema
 * (400 `invalid_action`, nothing sent).
 */
export type OutboundVerdict =
  | { readonly kind: 'ok'; readonly action: Action; readonly platform?: string; readonly botId?: string }
  | {
      readonly kind: 'invalid';
      readonly status: 400;
      readonly code: 'invalid_action';
      readonly message: string;
      readonly issues: readonly unknown[];
    }
  | {
      readonly kind: 'rejected';
      readonly plugin: string;
      readonly rejection: { readonly code: string; readonly message: string; readonly status?: number };
    }
  | { readonly kind: 'failed'; readonly plugin: string; readonly error: { code: string; message: string } };

/** Worker pool figures for `/v1/status`. */
export interface PoolStats {
  readonly threads: number;
  readonly queued: number;
  readonly completed: number;
  readonly failed: number;
  /** No worker runs and none could start (core/pool/worker-starts.ts): `/readyz` answers 503. */
  readonly startFailing?: boolean;
}

/** The plugin host as the API uses it. */
export interface ApiPluginHost {
  /** Core schemas; a plugin-defined op only as one an enabled plugin defines. */
  validateAction(raw: unknown): ActionValidation;
  /** Run a plugin-defined op's schema, then the outbound hooks in manifest order. */
  runOutbound(action: Action, tags: OutboundTags): Promise<OutboundVerdict>;
  /** Loaded plugins (name, version, …), shown in `/v1/status` without their options. */
  readonly plugins: readonly object[];
  stats(): PoolStats | Promise<PoolStats>;
}

/**
 * Inbox figures for `/v1/status` (passed through as the inbox reports them, except `agent`,
 * which the status shows at its top level).
 */
export interface InboxStats {
  readonly pending: number;
  readonly oldest_age_s: number | null;
  /** Push: the agent's reachability; null in pull mode or when the inbox does not tell. */
  readonly agent?: object | null;
}

/** One dead letter as listed (no payload). */
export interface DeadLetterView {
  readonly id: string;
  readonly kind: string;
  readonly code: string;
  readonly message: string;
  readonly created_at: string;
}

/** The inbox as the API uses it. */
export interface ApiInbox {
  stats(): InboxStats | Promise<InboxStats>;
  /** True while received frames wait for the store to take them (`/readyz` 503, `store: failing`). */
  readonly storeFailing?: boolean;
  /** True once the store file was replaced while running (`/readyz` 503, `store: replaced`). */
  readonly storeReplaced?: boolean;
  /** Latest dead letters, newest first (absent ⇒ the dead-letter routes answer 404). */
  deadLetters?(limit?: number): readonly DeadLetterView[];
  /** One dead letter with its secret-free payload. */
  deadLetter?(id: string): (DeadLetterView & { readonly payload: unknown }) | undefined;
  /** Put a dead letter back into the pipeline. */
  replay?(id: string): 'replayed' | 'unknown' | 'not_replayable';
}

/** The SSE stream handed to pull delivery: the delivery writes whole SSE events. */
export interface DeliveryStream {
  /** Write a chunk; false ⇒ the socket buffer is full (wait for drain before more). */
  write(chunk: string): boolean;
  end(): void;
  /** Called once when the client goes away or the stream is ended. */
  onClose(cb: () => void): void;
  /** Called when a full buffer has drained. */
  onDrain?(cb: () => void): void;
}

/** Pull-mode delivery as the API uses it. */
export interface ApiPullDelivery {
  attach(stream: DeliveryStream, lastEventId?: string): void;
  ack(id: string): 'acked' | 'unknown';
}

/** Everything the agent API needs. */
export interface ApiDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly client: ApiRelayClient;
  readonly plugins: ApiPluginHost;
  readonly inbox: ApiInbox;
  /** Required in pull mode; absent in push mode (the events routes answer 409 wrong_mode). */
  readonly pull?: ApiPullDelivery;
  /** The resolved API token (see `resolveApiToken`); never logged. */
  readonly token: string;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Process start, ms since the epoch, for `uptime_s`. Default: when the API was created. */
  readonly startedAtMs?: number;
}
