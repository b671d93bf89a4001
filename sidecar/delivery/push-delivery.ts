/**
 * Push delivery: `POST <agent.url>` with the envelope, signed, over keep-alive connections of an
 * undici `Pool` (about a third less CPU per request than node:http with an Agent, measured:
 * benchmarks). One call is one attempt; the scheduler owns retries and durable state.
 */

import type { KeyObject } from 'node:crypto';
import { Pool } from 'undici';
import type { Clock } from '../../core/di/clock.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { DeliveryJob, DeliveryResult, DeliveryTarget } from './delivery-target.js';
import { actionsOf, retryAfterMs, verdictOf } from './push-response.js';
import { signDelivery, signingKey } from './signature.js';

/** Push settings. */
export interface PushOptions {
  /** `agent.url`. */
  readonly url: string;
  /** The API token: the signing key. Never logged. */
  readonly token: string;
  /** Per-request timeout, ms (`agent.timeoutMs`). */
  readonly timeoutMs: number;
  /** Most parallel connections (`agent.concurrency`). */
  readonly maxSockets: number;
  /** Largest response body read for actions, bytes (`api.maxBodyBytes`). */
  readonly maxResponseBytes: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
}

type Headers = Record<string, string | string[] | undefined>;

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
    this.basicAuth = url.username
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
    this.key = signingKey(opts.token);
    // agent.timeoutMs bounds the wait for the response headers and any pause in its body
    // (undici's own timers: no AbortController and timer per request)
    this.pool = new Pool(url.origin, {
      connections: Math.max(1, opts.maxSockets),
      pipelining: 1,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    // the URL may carry credentials (user:pass@ or a query token): log its origin only
    this.log = opts.log.child({ component: 'push-delivery', agent: url.origin });
  }

  /** One attempt. Never rejects. */
  async deliver(job: DeliveryJob): Promise<DeliveryResult> {
    if (this.closed) return { kind: 'cancelled' };
    let body: string | undefined;
    try {
      body = job.begin();
    } catch (err) {
      return {
        kind: 'retry',
        reason: `attempt not recorded: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    if (body === undefined) return { kind: 'gone' };
    if (this.closed) return { kind: 'cancelled' };
    return this.post(job, body);
  }

  private async post(job: DeliveryJob, body: string): Promise<DeliveryResult> {
    const timestamp = String(Math.floor(this.opts.clock.now() / 1000));
    let result: DeliveryResult;
    try {
      const res = await this.pool.request({
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
      });
      result = await this.read(job, res.statusCode, res.headers, res.body);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason =
        code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
          ? `timed out after ${this.opts.timeoutMs} ms`
          : (code ?? (err instanceof Error ? err.message : String(err)));
      result = { kind: 'retry', reason };
    }
    return this.closed && result.kind !== 'delivered' ? { kind: 'cancelled' } : result;
  }

  /** Abort every request in flight (they end `cancelled`) and drop the pooled connections. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy().catch(() => undefined);
  }

  /** The verdict from the status and (for a 2xx) the body, read up to `maxResponseBytes`. */
  private async read(
    job: DeliveryJob,
    status: number,
    headers: Headers,
    body: AsyncIterable<Buffer> & { dump(): Promise<void> },
  ): Promise<DeliveryResult> {
    if (status < 200 || status >= 300) {
      await body.dump().catch(() => undefined); // drain so the connection can be reused
      return verdictOf(status, retryAfterMs(header(headers, 'retry-after'), this.opts.clock.now()));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += chunk.length;
        if (size > this.opts.maxResponseBytes) {
          this.problem(job, 'body larger than maxBodyBytes');
          await body.dump().catch(() => undefined);
          return { kind: 'delivered', actions: [] };
        }
        chunks.push(chunk);
      }
    } catch {
      // a 2xx is a delivery even when the body then breaks off
      return { kind: 'delivered', actions: [] };
    }
    const actions = actionsOf(Buffer.concat(chunks).toString('utf8'), header(headers, 'content-type'));
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

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
