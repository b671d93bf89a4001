/**
 * The routes of the relay client: each connector frame type goes to exactly one place. The
 * transport keeps `descriptor`, `outbound_result` and `going_idle_ack`; the sidecar pipeline owns
 * `inbound`, `passthrough_forward` and `interrupt_inbound` through {@link InboundRoutes}.
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { IncomingOf } from '../protocol/frames.js';
import { RouteTable } from './route-table.js';

/**
 * Handlers for connector frames the sidecar pipeline owns. Called synchronously on the read path:
 * they must not await anything (above all not an `outbound_result`: that would deadlock).
 */
export interface InboundRoutes {
  inbound(frame: IncomingOf<'inbound'>): void;
  passthrough_forward(frame: IncomingOf<'passthrough_forward'>): void;
  interrupt_inbound(frame: IncomingOf<'interrupt_inbound'>): void;
  /** A schema-failed frame that carried a `bufferId`: the owner may ack and dead-letter it. */
  poison?(info: { bufferId: string; code: string; reason: string; type?: string }): void;
}

/** The frames the transport itself consumes. */
export interface TransportRoutes {
  descriptor(frame: IncomingOf<'descriptor'>): void;
  outbound_result(frame: IncomingOf<'outbound_result'>): void;
  going_idle_ack(frame: IncomingOf<'going_idle_ack'>): void;
}

/**
 * Build the client's table once. Without `inbound` routes the pipeline frames have no route and
 * are reported by the table's single "no route" path.
 */
export function buildRouteTable(
  transport: TransportRoutes,
  inbound: InboundRoutes | undefined,
  log: Logger,
  metrics: Metrics,
): RouteTable {
  return new RouteTable(
    {
      descriptor: (f) => transport.descriptor(f),
      outbound_result: (f) => transport.outbound_result(f),
      going_idle_ack: (f) => transport.going_idle_ack(f),
      ...(inbound
        ? {
            inbound: (f) => inbound.inbound(f),
            passthrough_forward: (f) => inbound.passthrough_forward(f),
            interrupt_inbound: (f) => inbound.interrupt_inbound(f),
          }
        : {}),
    },
    log,
    metrics,
  );
}
