/**
 * The router: a table from connector frame type to the one handler that owns it, built once.
 * `dispatch` is the only place that handles "no route" and the only place that shields the read
 * loop from a handler that throws (or returns a promise that rejects).
 */

import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import type { IncomingFrame, IncomingOf, IncomingType } from '../protocol/frames.js';

/** The handler of one frame type. Called synchronously on the read path; never awaited. */
export type RouteHandler<T extends IncomingType> = (frame: IncomingOf<T>) => unknown;

/** Handlers by frame type; a type left out has no route. */
export type RouteHandlers = { readonly [T in IncomingType]?: RouteHandler<T> };

const MAX_ERROR_CHARS = 200;

/** An immutable frame-type → handler table. */
export class RouteTable {
  private readonly routes: ReadonlyMap<IncomingType, (frame: IncomingFrame) => unknown>;

  constructor(
    handlers: RouteHandlers,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    const routes = new Map<IncomingType, (frame: IncomingFrame) => unknown>();
    for (const [type, handler] of Object.entries(handlers)) {
      if (typeof handler === 'function') {
        routes.set(type as IncomingType, handler as (frame: IncomingFrame) => unknown);
      }
    }
    this.routes = routes;
  }

  /** True when `type` has a handler. */
  has(type: IncomingType): boolean {
    return this.routes.has(type);
  }

  /** The frame types with a route, in insertion order. */
  types(): IncomingType[] {
    return [...this.routes.keys()];
  }

  /** Hand `frame` to its handler. Never throws. */
  dispatch(frame: IncomingFrame): void {
    const handler = this.routes.get(frame.type);
    if (!handler) {
      this.metrics.framesIgnored.inc({ reason: 'no_route' });
      reportError(this.log, this.metrics, 'CORE_ERR_ROUTER_NO_ROUTE', 'frame has no route', {
        type: frame.type,
      });
      return;
    }
    try {
      const out = handler(frame);
      // A handler must not be async, but if one is, its rejection must not go unhandled.
      if (out && typeof (out as PromiseLike<unknown>).then === 'function') {
        (out as Promise<unknown>).then(undefined, (err: unknown) => this.failed(frame.type, err));
      }
    } catch (err) {
      this.failed(frame.type, err);
    }
  }

  private failed(type: string, err: unknown): void {
    const message = errorMessage(err);
    reportError(
      this.log,
      this.metrics,
      'CORE_ERR_ROUTER_HANDLER_FAILED',
      'route handler failed',
      { type, err: message.slice(0, MAX_ERROR_CHARS) },
      'error',
    );
  }
}
