/**
 * The one HTTP client of the side routes (`/relay/enroll`, `/relay/provision`, `/relay/policy`,
 * `/relay/media`): a bounded POST with a bearer credential.
 *
 * Redirects are handled here, not by the client: a same-origin redirect is followed (same method, same
 * body, at most {@link MAX_REDIRECTS} hops); a redirect to another origin is refused, so the bearer
 * never travels to a host the operator did not configure. The whole exchange (every hop and the
 * response body) shares one timeout, and the response body is read up to a byte cap.
 */
import { RelayConfigSchema } from '../../core/config/schema.js';
import { systemClock } from '../../core/di/clock.js';
import { abortAfter } from '../../core/di/deadline.js';
import { type ErrorCode, RelayError } from '../../core/errors.js';
import { redactValues } from '../../core/secret-matcher.js';
import { sideRouteUrl } from '../../core/transport/dial-url.js';
import { type FetchFn, MAX_RESPONSE_BYTES, requestFetch } from './request-fetch.js';

export type { FetchFn };

/** Default timeout of every side-route call, ms: the config default (15 s). */
export const DEFAULT_SIDE_ROUTE_TIMEOUT_MS: number = RelayConfigSchema.parse({}).sideRouteTimeoutMs;

/** Same-origin redirect hops followed before giving up. */
export const MAX_REDIRECTS = 5;
/** Longest server-provided error text kept in a message, characters. */
const MAX_ERROR_TEXT = 200;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Why a side-route call failed, in `RelayError.details.kind`. */
export type SideRouteFailureKind =
  | 'http'
  | 'unreachable'
  | 'timeout'
  | 'redirect'
  | 'bad-response'
  | 'too-large'
  | 'bad-url'
  | 'bad-credential';

/** One POST to a side route. */
export interface SideRouteRequest {
  /** Full URL of the route (see `sideRouteUrl`). */
  readonly url: string;
  /** Bearer credential (identity token or upgrade token). Never logged, never in errors. */
  readonly bearer: string;
  readonly body: string | Uint8Array;
  readonly contentType: string;
  /** Extra request headers (e.g. `X-Media-Filename`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Timeout of the whole exchange, ms. */
  readonly timeoutMs: number;
  /** Error code of every failure thrown by this call. */
  readonly code: ErrorCode;
  /** Route name for messages and `details.route`, e.g. `enroll`. */
  readonly route: string;
  readonly fetch?: FetchFn;
}

/** A received answer (any status except a followed redirect). */
export interface SideRouteResponse {
  readonly status: number;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  readonly json: unknown;
}

/** A side-route failure with the stable details every caller relies on. */
export function sideRouteError(
  req: Pick<SideRouteRequest, 'code' | 'route'>,
  kind: SideRouteFailureKind,
  message: string,
  extra: { status?: number } = {},
): RelayError {
  const details: Record<string, unknown> = { route: req.route, kind };
  if (extra.status !== undefined) details.status = extra.status;
  // No `cause`: fetch errors can quote header values (the bearer) and would be logged with it.
  return new RelayError(req.code, message, { details });
}

/**
 * POST `req.body` to `req.url` with `Authorization: Bearer …`. Resolves with the final status and
 * JSON body; throws a {@link RelayError} with `req.code` when no usable answer arrives (network,
 * timeout, cross-origin redirect, redirect loop, oversized body).
 */
export async function postSideRoute(req: SideRouteRequest): Promise<SideRouteResponse> {
  const doFetch = req.fetch ?? requestFetch;
  const url = parseUrl(req);
  if (!/^[\x21-\x7e]+$/.test(req.bearer)) {
    throw sideRouteError(
      req,
      'bad-credential',
      `${req.route}: the bearer credential is empty or has invalid characters`,
    );
  }
  // a deadline, not AbortSignal.timeout: after a freeze it first reads what came, and a call a
  // pause cut (the request written only at the resume) gets its time again (core/di/deadline.ts)
  const deadline = abortAfter(systemClock, req.timeoutMs, 'side route');
  try {
    return await exchange(req, url, doFetch, deadline.signal);
  } finally {
    deadline.clear();
  }
}

/** The hops of one call, every one bounded by `signal`. */
async function exchange(
  req: SideRouteRequest,
  first: URL,
  doFetch: FetchFn,
  signal: AbortSignal,
): Promise<SideRouteResponse> {
  let url = first;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        redirect: 'manual',
        signal,
        body: req.body,
        headers: {
          ...req.headers,
          authorization: `Bearer ${req.bearer}`,
          'content-type': req.contentType,
          accept: 'application/json',
        },
      });
    } catch (err) {
      throw transportError(req, url, err);
    }
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || !location) {
      return { status: res.status, json: await readJson(req, res, url) };
    }
    await res.body?.cancel().catch(() => {});
    const next = resolveRedirect(req, url, location, res.status);
    if (hop + 1 > MAX_REDIRECTS) {
      throw sideRouteError(req, 'redirect', `${req.route}: more than ${MAX_REDIRECTS} redirects`, {
        status: res.status,
      });
    }
    url = next;
  }
}

/**
 * The full URL of `route` under the connector `base`. A bad base fails as the route's own error
 * (`details.kind: 'bad-url'`, never echoing the URL) so callers handle one code.
 */
export function routeUrl(base: string, route: string, req: Pick<SideRouteRequest, 'code' | 'route'>): string {
  try {
    return sideRouteUrl(base, route);
  } catch (err) {
    throw sideRouteError(req, 'bad-url', `${req.route}: ${(err as Error).message}`);
  }
}

/** The server's `error` text of a non-2xx answer, made safe to show: capped, one line, no secrets. */
export function serverErrorText(json: unknown, secrets: readonly (string | undefined)[] = []): string {
  const raw =
    json && typeof json === 'object' && typeof (json as { error?: unknown }).error === 'string'
      ? (json as { error: string }).error
      : '';
  return scrub(raw, secrets);
}

/** Remove every non-empty `secret` from `text`, flatten control characters and cap the length. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = redactValues(text, secrets);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return out.length > MAX_ERROR_TEXT ? `${out.slice(0, MAX_ERROR_TEXT)}…` : out;
}

function parseUrl(req: SideRouteRequest): URL {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw sideRouteError(req, 'bad-url', `${req.route}: the connector URL is not a valid URL`);
  }
  // fetch refuses userinfo and would echo the whole URL (credentials included) in its error.
  if (url.username !== '' || url.password !== '') {
    throw sideRouteError(
      req,
      'bad-url',
      `${req.route}: the connector URL must not contain user:password@ credentials (${url.origin})`,
    );
  }
  return url;
}

function resolveRedirect(req: SideRouteRequest, from: URL, location: string, status: number): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw sideRouteError(req, 'redirect', `${req.route}: redirect with an invalid Location`, { status });
  }
  if (next.origin !== from.origin || next.username !== '' || next.password !== '') {
    // Following would either drop the credential (and fail) or leak it to another host: refuse.
    throw sideRouteError(
      req,
      'redirect',
      `${req.route}: the connector at ${from.origin} redirected (HTTP ${status}) to another origin ` +
        `(${next.protocol}//${next.host}); not following so the credential stays with the configured host ` +
        '— point GATEWAY_RELAY_URL at the final URL',
      { status },
    );
  }
  return next;
}

function transportError(req: SideRouteRequest, url: URL, err: unknown): RelayError {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return sideRouteError(
      req,
      'timeout',
      `${req.route}: no answer from ${url.origin} within ${req.timeoutMs} ms`,
    );
  }
  // undici's request throws the socket's error itself (`code`), fetch wraps it in `cause`
  const own = (err as { code?: unknown } | null)?.code;
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const why =
    typeof own === 'string'
      ? own
      : typeof cause?.code === 'string'
        ? cause.code
        : scrub(String(cause?.message ?? 'network error'), [req.bearer]);
  return sideRouteError(
    req,
    'unreachable',
    `${req.route}: cannot reach the connector at ${url.origin} (${why})`,
  );
}

/** Read at most {@link MAX_RESPONSE_BYTES} of the body and parse it as JSON (undefined if not JSON). */
async function readJson(req: SideRouteRequest, res: Response, url: URL): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > MAX_RESPONSE_BYTES) {
          await res.body.cancel().catch(() => {});
          throw sideRouteError(
            req,
            'too-large',
            `${req.route}: answer larger than ${MAX_RESPONSE_BYTES} bytes`,
            {
              status: res.status,
            },
          );
        }
        chunks.push(chunk);
      }
    }
  } catch (err) {
    if (err instanceof RelayError) throw err;
    throw transportError(req, url, err);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
