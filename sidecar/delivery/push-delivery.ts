/**
 * Push delivery: `POST <agent.url>` with the envelope, signed, over keep-alive connections of an
 * undici `Pool` (about a third less CPU per request than node:http with an Agent, measured:
 * benchmarks). One call is one attempt; the scheduler owns retries and durable state.
 */

import type { KeyObject } from 'node:crypto';
import { type Dispatcher, Pool } from 'undici';
import { type Clock, systemClock } from '../../core/di/clock.js';
import { armDeadline, type Deadline } from '../../core/di/deadline.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import {
  beginAttempt,
  type DeliveryJob,
  type DeliveryResult,
  type DeliveryTarget,
} from './delivery-target.js';
import { actionsOf, redirectTarget, retryAfterMs, verdictOf } from './push-response.js';
import { signDelivery, signingKey } from './signature.js';

/** Push settings. */
export interface PushOptions {
  /** `agent.url`. */
  readonly url: string;
  /** The API token: the signing key. Never logged. */
  readonly token: string;
  /** Bound of one whole attempt (connect, headers and body), ms (`agent.timeoutMs`). */
  readonly timeoutMs: number;
  /** Most parallel connections (twice `agent.concurrency`: interrupts run beside turns). */
  readonly maxSockets: number;
  /** Largest response body read for actions, bytes (`api.maxBodyBytes`). */
  readonly maxResponseBytes: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
}

type Headers = Record<string, string | string[] | undefined>;

/** `Basic …` from the credentials of `url` (user:pass@), or undefined when it holds none. */
export function basicAuthOf(url: URL): string | undefined {
  if (!url.username) return undefined;
  const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(user).toString('base64')}`;
}

/** Delivery by HTTP POST to the agent. */
export class PushDelivery implements DeliveryTarget {
  private readonly path: string;
  /** `Authorization: Basic …` from credentials in the URL, if any. */
  private readonly basicAuth: string | undefined;
  private readonly key: KeyObject;
  private readonly pool: Pool;
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly opts: PushOptions) {
    const url = new URL(opts.url);
    // parsed once: every request reuses the same path and credentials
    this.path = `${url.pathname}${url.search}`;
    this.basicAuth = basicAuthOf(url);
    this.key = signingKey(opts.token);
    // agent.timeoutMs bounds the whole attempt with one timer per exchange (PushExchange):
    // undici's headersTimeout/bodyTimeout only bound each wait, so an agent sending a byte now
    // and then held an attempt forever. connectTimeout ends a connect the exchange gave up on.
    this.pool = new Pool(url.origin, {
      connections: Math.max(1, opts.maxSockets),
      pipelining: 1,
      connectTimeout: opts.timeoutMs,
    });
    // the URL may carry credentials (user:pass@ or a query token): log its origin only
    this.log = opts.log.child({ component: 'push-delivery', agent: url.origin });
  }

  /** One attempt. Never rejects. */
  async deliver(job: DeliveryJob): Promise<DeliveryResult> {
    if (this.closed) return { kind: 'cancelled' };
    const body = beginAttempt(job);
    if (typeof body !== 'string') return body;
    if (this.closed) return { kind: 'cancelled' };
    return this.post(job, body);
  }

  private async post(job: DeliveryJob, body: string): Promise<DeliveryResult> {
    const timestamp = String(Math.floor(this.opts.clock.now() / 1000));
    const exchange = new PushExchange(this.opts.maxResponseBytes, this.opts.timeoutMs);
    this.pool.dispatch(
      {
        path: this.path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-relay-delivery-id': job.id,
          'x-relay-timestamp': timestamp,
          'x-relay-signature': signDelivery(this.key, timestamp, body),
          ...(this.basicAuth ? { authorization: this.basicAuth } : {}),
        },
        body,
      },
      exchange,
    );
    await exchange.done;
    const result = this.verdict(job, exchange);
    return this.closed && result.kind !== 'delivered' ? { kind: 'cancelled' } : result;
  }

  /** Abort every request in flight (they end `cancelled`) and drop the pooled connections. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy().catch(() => undefined);
  }

  /** The verdict from the status and (for a 2xx) the body, read up to `maxResponseBytes`. */
  private verdict(job: DeliveryJob, exchange: PushExchange): DeliveryResult {
    const { status, headers, error } = exchange;
    // an answer not complete within agent.timeoutMs is a timeout whatever its status line said:
    // a 2xx whose body never ends may hold actions, a 4xx whose body never ends frees no slot
    if (exchange.timedOut) return { kind: 'retry', reason: `timed out after ${this.opts.timeoutMs} ms` };
    // no response: refused, reset, or the connection failed
    if (status === 0) return { kind: 'retry', reason: error ? codeOf(error) : 'no response' };
    if (status < 200 || status >= 300) {
      const retryAfter = retryAfterMs(header(headers, 'retry-after'), this.opts.clock.now());
      return verdictOf(status, retryAfter, redirectTarget(header(headers, 'location'), this.opts.url));
    }
    if (exchange.oversize) {
      this.problem(job, 'body larger than maxBodyBytes');
      return { kind: 'delivered', actions: [] };
    }
    // a 2xx whose body then breaks off (reset, crash mid-answer) is no answer, like one still
    // incomplete at the deadline: its actions were cut off, so taking it as delivered dropped
    // the agent's replies without a word. Retried; the agent dedupes by id.
    if (error)
      return { kind: 'retry', reason: `answer broke off after HTTP ${status}: ${codeOf(error)}`, status };
    const actions = actionsOf(exchange.text(), header(headers, 'content-type'));
    if (Array.isArray(actions)) return { kind: 'delivered', actions };
    this.problem(job, (actions as { reason: string }).reason);
    return { kind: 'delivered', actions: [] };
  }

  private problem(job: DeliveryJob, reason: string): void {
    reportError(this.log, this.opts.metrics, 'CORE_ERR_DELIVERY_RESPONSE_INVALID', 'push response ignored', {
      id: job.id,
      reason,
    });
  }
}

/**
 * One request on undici's handler API: the status, headers and a 2xx body (up to `maxBytes`) are
 * collected from the parser's callbacks, with no response stream or async iterator per request
 * (those were ~10 % of the main thread's allocations per pushed event: benchmarks).
 *
 * One timer bounds the whole exchange (`timeoutMs`, from dispatch to the body's end): when it
 * fires the request is aborted through undici's controller, or — while still waiting for a
 * connection, before undici hands over a controller — the exchange ends at once and the request
 * is aborted the moment it starts.
 */
class PushExchange implements Dispatcher.DispatchHandler {
  /** 0 until the response's final status line arrives. */
  status = 0;
  headers: Headers = {};
  error: Error | undefined;
  /** The 2xx body passed `maxBytes`: the request was aborted, the body dropped. */
  oversize = false;
  /** `timeoutMs` ran out before the response was complete: the request was aborted. */
  timedOut = false;
  readonly done: Promise<void>;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private controller: Dispatcher.DispatchController | undefined;
  /** Bytes of the response so far (status line counted as one): what a late deadline waits on. */
  private received = 0;
  private readonly deadline: Deadline;
  private resolve!: () => void;

  constructor(
    private readonly maxBytes: number,
    timeoutMs: number,
  ) {
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
    // timers of one duration share one list in Node: arming and clearing one is O(1). A deadline
    // that fires late (the process was frozen) first reads the answer that came meanwhile: taken
    // as a timeout, an agent's 2xx was retried, a duplicate delivery
    this.deadline = armDeadline(systemClock, timeoutMs, () => this.expire(), {
      progress: () => this.received,
    });
  }

  /** Also what makes undici drive this handler through the controller API (not the legacy one). */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // the exchange already gave up while this request waited for a connection
    if (this.timedOut) controller.abort(timeoutError());
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    this.status = statusCode;
    this.headers = headers;
    this.received++;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.received += chunk.length;
    // a non-2xx body is read to its end (so the connection is reused) and dropped
    if (this.status < 200 || this.status >= 300 || this.oversize) return;
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.oversize = true;
      this.chunks.length = 0;
      controller.abort(new Error('response body larger than maxBodyBytes'));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    this.error ??= error;
    this.finish();
  }

  private expire(): void {
    this.timedOut = true;
    // the abort ends the exchange through onResponseError; without a controller, end it here
    if (this.controller) this.controller.abort(timeoutError());
    else this.finish();
  }

  private finish(): void {
    this.deadline.clear();
    this.resolve();
  }

  text(): string {
    if (this.chunks.length === 0) return '';
    return (this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks)).toString(
      'utf8',
    );
  }
}

function timeoutError(): Error {
  return new Error('push attempt exceeded agent.timeoutMs');
}

/** The errno or undici code of a failed exchange, else its message. */
function codeOf(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
