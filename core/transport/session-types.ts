/**
 * The shapes around one connection: how sockets are made (the DI socket factory), what a dial
 * needs, what a session reports, and how it ended.
 */
import WebSocket, { type ClientOptions } from 'ws';
import type { Clock } from '../di/clock.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import type { FrameSink } from './frame-reader.js';
import type { HelloFrame } from './hello.js';

/** Options of one dial: ws's client options, with `closeTimeout` (ws ≥ 8.19; not in @types/ws 8.18). */
export type DialOptions = ClientOptions & {
  /** Wait for the peer to end TCP after the close handshake, ms. */
  readonly closeTimeout?: number;
};

/** Creates client sockets; tests inject their own through DI. */
export type SocketFactory = (url: string, options: DialOptions) => WebSocket;

/** The production socket factory. */
export const defaultSocketFactory: SocketFactory = (url, options) => new WebSocket(url, options);

/** Why the session ended, when the sidecar ended it or reported why (a socket error). */
export type CloseCause = 'handshake_timeout' | 'pong_timeout' | 'too_large' | 'socket_error' | 'stopped';

/** How a session ended (reported once). */
export interface SessionClose {
  readonly code: number;
  readonly reason: string;
  /** The WebSocket upgrade succeeded. */
  readonly opened: boolean;
  /** A valid descriptor completed the handshake. */
  readonly handshaken: boolean;
  readonly cause?: CloseCause;
}

/** Everything one dial needs. */
export interface SessionOptions {
  readonly url: string;
  /** Upgrade headers (the bearer token lives here and nowhere else). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Values taken out of what the connector says back (a close reason, a socket error): the token
   * and the secret it is signed with, which a careless connector may quote in a refusal.
   */
  readonly secrets?: readonly string[];
  readonly hellos: readonly HelloFrame[];
  readonly maxPayloadBytes: number;
  /** Bytes waiting for the connector to read above which writes are refused. */
  readonly maxSendBufferBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  /**
   * Connections that failed in a row before this dial. A connector that stays unreachable fails
   * every dial of the backoff: the first failure and every tenth are warnings, the rest debug.
   */
  readonly failedBefore?: number;
}

/** Session collaborators. */
export interface SessionDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly socketFactory: SocketFactory;
}

/** The session's outputs. */
export interface SessionEvents extends FrameSink {
  closed(info: SessionClose): void;
}

/**
 * How long the socket waits, once close frames were exchanged, for the peer to end TCP before it
 * is destroyed, ms (ws's `closeTimeout`, 30 s by default). A connector that sends its close frame
 * and then goes silent (it crashed, or the path died) is gone either way: waiting longer only
 * delays the redial, with no socket to send on meanwhile. A close the sidecar starts is bounded
 * by the session's own grace instead (freeze-safe: `SocketSession.close`).
 */
export const CLOSE_HANDSHAKE_GRACE_MS = 1_000;

/** The ws client options of one dial. */
export function dialOptions(options: SessionOptions): DialOptions {
  return {
    headers: { ...options.headers },
    maxPayload: options.maxPayloadBytes,
    // No redirects: the bearer token must never be forwarded to another host.
    followRedirects: false,
    // No UTF-8 check of text messages: ws fails the whole connection on one invalid byte (RFC
    // 6455), and with it the live frames behind it and a character split across two text
    // messages; the contract reads text and binary as one byte stream, decoded per line.
    skipUTF8Validation: true,
    closeTimeout: CLOSE_HANDSHAKE_GRACE_MS,
  };
}

/**
 * Level of a failed dial's report: a warning at the first of a run of failures and every tenth,
 * debug between (a connector that stays down fails every backoff step).
 */
export function dialFailureLevel(failedBefore: number): 'warn' | 'debug' {
  return failedBefore % 10 === 0 ? 'warn' : 'debug';
}

/** Report a failed dial: counted always, logged at {@link dialFailureLevel}. */
export function reportDialFailed(
  deps: Pick<SessionDeps, 'log' | 'metrics'>,
  options: Pick<SessionOptions, 'failedBefore'>,
  fields: Record<string, unknown>,
): void {
  const failedBefore = options.failedBefore ?? 0;
  const code = 'CORE_ERR_TRANSPORT_DIAL_FAILED';
  const level = dialFailureLevel(failedBefore);
  reportError(deps.log, deps.metrics, code, 'relay dial failed', { ...fields, failedBefore }, level);
}

/**
 * Report a handshake timeout in its phase (`upgrade` until the socket opened, then `descriptor`).
 * A connector that stays unresponsive times out at every backoff step: throttled like a dial.
 */
export function reportHandshakeTimeout(
  deps: Pick<SessionDeps, 'log' | 'metrics'>,
  options: Pick<SessionOptions, 'failedBefore' | 'handshakeTimeoutMs'>,
  opened: boolean,
): void {
  const failedBefore = options.failedBefore ?? 0;
  const { handshakeTimeoutMs } = options;
  const fields = { handshakeTimeoutMs, phase: opened ? 'descriptor' : 'upgrade', failedBefore };
  const code = 'CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT';
  reportError(
    deps.log,
    deps.metrics,
    code,
    'relay handshake timed out',
    fields,
    dialFailureLevel(failedBefore),
  );
}

// kept where the transport's callers import it from; it lives with the other error helpers
export { scrubUrls } from '../errors.js';

/**
 * The HTTP status the connector answered the upgrade with, when not 101: ws says it only in the
 * text of its error (`Unexpected server response: 401`). A redirect is never followed.
 */
export function upgradeStatus(err: Error | undefined): number | undefined {
  const status = /^Unexpected server response: (\d{3})$/.exec(err?.message ?? '')?.[1];
  return status === undefined ? undefined : Number(status);
}

/** The result of a write: ok, or why nothing was written. */
export type WriteResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };
