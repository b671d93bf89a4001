/**
 * The agent API's HTTP server (node:http, no framework). One dispatch function: match the route
 * table, answer "no route" / "wrong method" in this one place, check the token, read the body
 * under the size cap (parsed for JSON routes, dropped for the others), run the handler, write its
 * reply. A handler that throws gets a 500 JSON answer; the server keeps serving.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  formatListenAddress,
  type ListenAddress,
  parseListenAddress,
} from '../../core/config/listen-address.js';
import { type Clock, systemClock } from '../../core/di/clock.js';
import { armWorkBound, type PauseMeter } from '../../core/di/pause-meter.js';
import { reportError } from '../../core/log/report.js';
import { type ActionExecutor, createActionPipeline } from './action-pipeline.js';
import { BASIC_REALM, isAuthorized } from './auth.js';
import { bindServer } from './bind-address.js';
import { announcesBody, CLOSE_AFTER_REPLY, readBody, readJsonBody } from './body.js';
import type { ApiDeps } from './deps.js';
import { apiError } from './errors.js';
import type { OpenStreams } from './event-stream.js';
import { hostAllowed } from './host-check.js';
import { answerParserRefusals } from './parser-refusals.js';
import { errorCodeOf, pathOf, writeReply } from './reply.js';
import { RouteTable } from './route-table.js';
import { buildRoutes, type RequestContext, type Route, type RouteResult } from './routes.js';

// error replies worth a count: the agent sent something we could not use
const BAD_REQUEST_CODES = new Set(['invalid_json', 'json_too_deep', 'body_too_large', 'invalid_request']);

/** The running agent API. */
export interface AgentApi {
  /** The action pipeline behind `POST /v1/actions`; push delivery runs response actions with it. */
  readonly executeAction: ActionExecutor;
  /** Bind `api.listen`; resolves with the bound address (real port when 0 was configured). */
  listen(): Promise<ListenAddress>;
  /** The bound address, once listening. */
  address(): ListenAddress | undefined;
  /**
   * Stop: end SSE streams, refuse new connections, drop the rest after `budgetMs` (of `meter`'s
   * time when given: the drain's, less the process's pauses).
   */
  close(budgetMs?: number, meter?: PauseMeter): Promise<void>;
}

/** Build the agent API (not yet listening). */
export function createAgentApi(deps: ApiDeps): AgentApi {
  const { config, metrics } = deps;
  if (config.agent.mode === 'pull' && !deps.pull)
    throw new Error('agent api: pull mode needs a pull delivery');
  const log = deps.log.child({ component: 'agent-api' });
  const clock: Clock = deps.clock ?? systemClock;
  const pipeline = createActionPipeline({
    client: deps.client,
    plugins: deps.plugins,
    log,
    metrics,
    maxInFlight: config.api.maxInFlightActions,
  });
  const streams: OpenStreams = new Set();
  // the uptime is elapsed time: the start (a wall time) is moved onto the monotonic clock once,
  // so a later step of the wall clock adds nothing to it (a day forward read as a day of uptime)
  const sinceStartMs = Math.max(0, clock.now() - (deps.startedAtMs ?? clock.now()));
  const routes = buildRoutes({
    deps,
    pipeline,
    streams,
    now: () => performance.now(),
    startedAtMs: performance.now() - sinceStartMs,
  });
  const table = new RouteTable<Route>(routes);

  const listenAddress = parseListenAddress(config.api.listen);
  // a unix socket is out of a browser's reach: only TCP checks the Host header
  const allowedHosts = listenAddress.kind === 'tcp' ? new Set(config.api.allowedHosts) : undefined;

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<RouteResult> {
    const path = pathOf(req.url);
    if (allowedHosts && !hostAllowed(req.headers.host, allowedHosts)) {
      reportError(log, metrics, 'CORE_ERR_API_HOST_NOT_ALLOWED', 'api call to a foreign host name refused', {
        method: req.method,
        path,
        host: req.headers.host?.slice(0, 100),
      });
      return apiError(
        'host_not_allowed',
        'the Host header is not a loopback name; address the API as 127.0.0.1, [::1] or localhost, or list the name in api.allowedHosts',
        { headers: CLOSE_AFTER_REPLY },
      );
    }
    const match = table.match(req.method ?? 'GET', path);
    // no route, no cap: node would read and drop its body for as long as it comes, the
    // connection kept; closing drops it as after a 401 (bounded in bytes and time)
    const unread = announcesBody(req) ? CLOSE_AFTER_REPLY : {};
    switch (match.kind) {
      case 'not_found':
        return apiError('not_found', `no route for ${req.method} ${path.slice(0, 200)}`, { headers: unread });
      case 'method_not_allowed':
        return apiError('method_not_allowed', `${req.method} is not allowed here`, {
          headers: { allow: match.allow.join(', '), ...unread },
        });
      case 'bad_param':
        return apiError('invalid_request', `path parameter ${match.param} is not valid percent-encoding`, {
          headers: unread,
        });
    }
    const { route } = match;
    if (
      route.access !== 'public' &&
      !isAuthorized(req.headers.authorization, deps.token, route.access === 'browser')
    ) {
      reportError(log, metrics, 'CORE_ERR_API_UNAUTHORIZED', 'api call unauthorized', {
        method: req.method,
        path,
      });
      const challenge =
        route.access === 'browser' ? `Basic realm="${BASIC_REALM}", charset="UTF-8"` : 'Bearer';
      return apiError('unauthorized', 'missing or wrong bearer token', {
        headers: { 'www-authenticate': challenge, ...CLOSE_AFTER_REPLY },
      });
    }
    // after the token check (a caller without it learns nothing, 401 first), before the handler:
    // every route's body is capped (agent-api.md: max 1 MiB, 413 beyond), read by it or not
    let body: unknown;
    if (route.body === 'json') {
      const read = await readJsonBody(req, config.api.maxBodyBytes);
      if (!read.ok) return read.reply;
      body = read.value;
    } else if (announcesBody(req)) {
      const read = await readBody(req, config.api.maxBodyBytes, false);
      if (!read.ok) return read.reply;
    }
    const ctx: RequestContext = { req, res, params: match.params, body };
    return route.handle(ctx);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = clock.now();
    let result: RouteResult;
    try {
      result = await dispatch(req, res);
    } catch (err) {
      reportError(
        log,
        metrics,
        'CORE_ERR_API_HANDLER_FAILED',
        'api handler failed',
        {
          method: req.method,
          path: pathOf(req.url),
          error: (err as Error)?.message,
        },
        'error',
      );
      if (res.headersSent) {
        res.destroy();
        return;
      }
      result = apiError('internal_error', 'the request could not be processed');
    }
    if (result === 'handled') return;
    const code = 'body' in result ? errorCodeOf(result.body) : undefined;
    if (code && BAD_REQUEST_CODES.has(code)) {
      reportError(
        log,
        metrics,
        'CORE_ERR_API_BAD_REQUEST',
        'api request refused',
        { path: pathOf(req.url), apiCode: code },
        'debug',
      );
    }
    try {
      writeReply(req, res, result);
    } catch (err) {
      // a body that cannot be serialised (a connector result nested past the stack) must not
      // leave the call unanswered and its rejection unhandled, which ends the process
      reportError(
        log,
        metrics,
        'CORE_ERR_API_HANDLER_FAILED',
        'api reply failed',
        { method: req.method, path: pathOf(req.url), error: (err as Error)?.message },
        'error',
      );
      if (res.headersSent) res.destroy();
      else writeReply(req, res, apiError('internal_error', 'the answer could not be serialised'));
      return;
    }
    log.debug(
      { method: req.method, path: pathOf(req.url), status: result.status, ms: clock.now() - started },
      'api request',
    );
  }

  // Requests in progress; when closing and none is left, remaining sockets are idle keep-alives
  // (fetch opens a spare one that never sends a request and that closeIdleConnections misses).
  const inflight = { count: 0, closing: false };
  const server: Server = createServer((req, res) => {
    inflight.count += 1;
    res.once('close', () => {
      inflight.count -= 1;
      if (inflight.closing && inflight.count === 0) server.closeAllConnections();
    });
    void onRequest(req, res);
  });
  answerParserRefusals(server, (apiCode, reason) =>
    reportError(
      log,
      metrics,
      'CORE_ERR_API_BAD_REQUEST',
      'api request refused',
      { apiCode, reason },
      'debug',
    ),
  );
  let bound: ListenAddress | undefined;
  let closing: Promise<void> | undefined;

  return {
    executeAction: pipeline.executeAction,
    async listen() {
      bound = await bindServer(server, listenAddress);
      // after bind, a server error (e.g. accept failing on EMFILE) is reported, never a crash
      server.on('error', (err: NodeJS.ErrnoException) =>
        reportError(
          log,
          metrics,
          'CORE_ERR_API_LISTEN_FAILED',
          'agent api server error',
          { reason: err.code ?? err.message },
          'error',
        ),
      );
      log.info({ address: formatListenAddress(bound), mode: config.agent.mode }, 'agent api listening');
      return bound;
    },
    address: () => bound,
    close(budgetMs = config.shutdown.budgetMs, meter?: PauseMeter) {
      inflight.closing = true;
      closing ??= closeServer(server, streams, { budgetMs, meter }, bound !== undefined, inflight);
      return closing;
    },
  };
}

/** Bounded close: end streams, stop accepting, wait for in-flight calls up to `limit.budgetMs` (of its meter's time). */
async function closeServer(
  server: Server,
  streams: OpenStreams,
  limit: { readonly budgetMs: number; readonly meter: PauseMeter | undefined },
  listening: boolean,
  inflight: { readonly count: number },
): Promise<void> {
  if (!listening) return;
  for (const res of streams) res.end();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  if (inflight.count === 0) server.closeAllConnections();
  // a deadline, not a plain timer: a freeze fired it at the resume, before the answers the calls
  // in flight had meanwhile (in the kernel) were read, and cut them
  const cut = armWorkBound(systemClock, limit.budgetMs, () => server.closeAllConnections(), limit.meter);
  await closed;
  cut.clear();
}
