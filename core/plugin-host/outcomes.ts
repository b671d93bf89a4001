/**
 * What the plugin host returns for each hook chain. Plain values, never exceptions: callers
 * branch on `kind`. `failed` outcomes are transient (a buffered frame is not acked) and were
 * already logged once with their code and plugin; the other kinds are final verdicts.
 */
import type { ErrorData } from '../errors.js';
import type { Action } from '../protocol/actions.js';
import type { MessageEvent } from '../protocol/payloads.js';
import type { Rejection } from './define-plugin.js';

/** Result of converting one forward. `failed` is transient (do not ack); the others are final. */
export type ConvertOutcome =
  | { kind: 'events'; plugin: string; events: { event: MessageEvent; capabilities: string[] }[] }
  | { kind: 'rejected'; plugin: string; reason: string; benign?: boolean }
  | { kind: 'disabled'; platform: string }
  | { kind: 'failed'; plugin: string; error: ErrorData };

/** Result of the inbound chain for one event. */
export type InboundOutcome =
  | { kind: 'event'; event: MessageEvent; capabilities: string[] }
  | { kind: 'dropped'; plugin: string; reason: string }
  | { kind: 'failed'; plugin: string; error: ErrorData };

/**
 * Result of the outbound chain for one action. `invalid`: an action of a plugin-defined op failed
 * that op's schema (run in the pool before the hooks), answered 400 `invalid_action`.
 */
export type OutboundOutcome =
  | { kind: 'ok'; action: Action; platform?: string; botId?: string }
  | { kind: 'invalid'; status: 400; code: 'invalid_action'; message: string; issues: unknown[] }
  | { kind: 'rejected'; plugin: string; rejection: Rejection }
  | { kind: 'failed'; plugin: string; error: ErrorData };
