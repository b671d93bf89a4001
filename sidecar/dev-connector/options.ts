/**
 * The public shapes of the dev connector: its options, and the records it keeps of every frame
 * and every upgrade attempt. Frame types come from the core zod schemas, never a hand copy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { HelloFrameSchema, OutboundFrameSchema } from '../../core/protocol/frames.js';

/** A `hello` frame as sent by the sidecar. */
export type HelloFrame = z.infer<typeof HelloFrameSchema>;
/** An `outbound` frame as sent by the sidecar. */
export type OutboundFrame = z.infer<typeof OutboundFrameSchema>;

/** Produces the `outbound_result.result` for an outbound; `undefined` ⇒ never answer it. */
export type RespondFn = (
  frame: OutboundFrame,
) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;

/** Produces the descriptor answering a hello; `null` ⇒ never answer that hello. */
export type DescriptorFn = (hello: HelloFrame) => Record<string, unknown> | null;

/** Options of {@link DevConnector.start}. Every field is optional. */
export interface DevConnectorOptions {
  /** TCP port on 127.0.0.1; default 0 (an ephemeral port). */
  port?: number;
  /** Secret rotation list for upgrade tokens; empty or undefined ⇒ accept unauthenticated dials. */
  secrets?: readonly string[];
  /** Clock for token expiry, unix seconds; default `Date.now() / 1000`. */
  nowS?: () => number;
  /** Descriptor for each hello; default `defaultDescriptor(hello.platform)`. */
  descriptorFor?: DescriptorFn;
  /** Result for each outbound; default `{success: true, message_id: 'm-<n>'}`. */
  respond?: RespondFn;
  /** Answer `going_idle` with `going_idle_ack`; default true. */
  answerGoingIdle?: boolean;
  /** Answer protocol pings; default true. False simulates a dead peer (pong-timeout tests). */
  autoPong?: boolean;
  /** Non-upgrade HTTP requests go here first; return true when handled. Unhandled ⇒ 404 JSON. */
  sideRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Largest WebSocket message accepted, and the partial-line cap, in bytes; default 16 MiB. */
  maxPayload?: number;
  /** Most frames kept in `frames` (oldest dropped first); default 10 000. */
  maxRecorded?: number;
}

/** One frame seen on the wire. `dir: 'in'` = from the sidecar, `'out'` = sent by the connector. */
export interface RecordedFrame {
  dir: 'in' | 'out';
  /** Connection id (1, 2, …). */
  conn: number;
  /**
   * The parsed frame. Synthetic types: `__malformed` (`raw`: a line that is not a JSON object),
   * `__raw` (`raw`: a string injected with `send`), `__overflow` (partial line over the cap).
   */
  frame: Record<string, unknown>;
  /** Milliseconds since the epoch. */
  at: number;
  /** Set when an inbound frame failed its sidecar→connector schema; such frames are not answered. */
  invalid?: string;
}

/** One upgrade attempt: 101 accepted or rejected with 4401 (`authorized: false`), or 400/503. */
export interface UpgradeRecord {
  path: string;
  authorized: boolean;
  status: number;
  /** `missing` | `invalid` | `expired` for a 4401, or why the upgrade got a 400/503. */
  reason?: string;
  /** The token payload (gateway id) of an accepted authenticated dial. */
  gatewayId?: string;
}

/** Resolved option values. */
export type ResolvedOptions = Required<
  Omit<DevConnectorOptions, 'sideRoutes' | 'descriptorFor' | 'respond'>
> &
  Pick<DevConnectorOptions, 'sideRoutes'>;

/** Default `maxPayload`: 16 MiB, the same as the sidecar's client. */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
/** Default `maxRecorded`. */
export const DEFAULT_MAX_RECORDED = 10_000;

/** Fill in every default of {@link DevConnectorOptions}. */
export function resolveOptions(options: DevConnectorOptions): ResolvedOptions {
  return {
    port: options.port ?? 0,
    secrets: [...(options.secrets ?? [])],
    nowS: options.nowS ?? (() => Date.now() / 1000),
    answerGoingIdle: options.answerGoingIdle ?? true,
    autoPong: options.autoPong ?? true,
    maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    maxRecorded: options.maxRecorded ?? DEFAULT_MAX_RECORDED,
    sideRoutes: options.sideRoutes,
  };
}
