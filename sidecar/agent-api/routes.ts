/**
 * Every route of the agent API, in one table: method, pattern, who may call it, and the handler.
 * Handlers return a value (JSON or text reply); only the SSE stream writes the response itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ActionPipeline } from './action-pipeline.js';
import { deadLetterRoutes } from './dead-letter-routes.js';
import type { ApiDeps } from './deps.js';
import { apiError, type JsonReply } from './errors.js';
import { lastEventIdOf, type OpenStreams, openEventStream } from './event-stream.js';
import type { RouteShape } from './route-table.js';
import { buildStatus } from './status.js';
import { renderStatusPage, STATUS_PAGE_CSP } from './status-page.js';

/** Who may call a route: anyone (probes), bearer token, or bearer/Basic (the browser page). */
export type Access = 'public' | 'bearer' | 'browser';

/** A non-JSON answer (metrics text, the HTML page). */
export interface TextReply {
  readonly status: number;
  readonly text: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a handler returns; `'handled'` ⇒ it wrote the response itself (SSE). */
export type RouteResult = JsonReply | TextReply | 'handled';

/** One request as a handler sees it. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  /** The parsed JSON body of a `body: 'json'` route; undefined on other routes. */
  readonly body: unknown;
}

/** One row of the table. */
export interface Route extends RouteShape {
  readonly access: Access;
  /**
   * `'json'`: the server reads and parses the body before the handler runs (400/413 answered
   * there). Other routes ignore their body; the server still reads it, under the same cap.
   */
  readonly body?: 'json';
  readonly handle: (ctx: RequestContext) => Promise<RouteResult> | RouteResult;
}

/** What the handlers share. */
export interface RouteEnv {
  readonly deps: ApiDeps;
  readonly pipeline: ActionPipeline;
  readonly streams: OpenStreams;
  /** The monotonic clock, ms (`performance.now()`), for the uptime. */
  readonly now: () => number;
  /** The sidecar's start on that clock. */
  readonly startedAtMs: number;
}

/** `POST /v1/interrupt` body. */
export const InterruptBodySchema = z.object({
  session_key: z.string().min(1).max(1024),
  reason: z
    .string()
    .max(1024)
    .nullish()
    .transform((v) => v ?? null),
});

/** The whole table. */
export function buildRoutes(env: RouteEnv): Route[] {
  const { deps, pipeline } = env;
  const { client, config } = deps;
  // pull-mode routes exist in push mode too, answering 409 so a misconfigured agent learns why
  const pull = config.agent.mode === 'pull' ? deps.pull : undefined;
  const wrongMode = () =>
    apiError('wrong_mode', `the sidecar delivers by ${config.agent.mode}; /v1/events is pull only`);
  const status = () => buildStatus({ ...deps, now: env.now(), startedAtMs: env.startedAtMs });

  return [
    { method: 'GET', pattern: '/healthz', access: 'public', handle: () => json(200, { status: 'ok' }) },
    {
      method: 'GET',
      pattern: '/readyz',
      access: 'public',
      handle: async () => {
        // ready to take events only if they can be committed: frames the store refuses are held;
        // a replaced store file is told apart, as only a restart ends it
        const store =
          deps.inbox.storeReplaced === true ? 'replaced' : deps.inbox.storeFailing ? 'failing' : undefined;
        // nor if no plugin worker runs or can start: every frame then fails transiently
        const pool = (await deps.plugins.stats()).startFailing === true ? 'failing' : undefined;
        const body = { state: client.state, ...(store ? { store } : {}), ...(pool ? { pool } : {}) };
        return json(client.state === 'ready' && !store && !pool ? 200 : 503, body);
      },
    },
    {
      method: 'GET',
      pattern: '/metrics',
      access: 'public',
      handle: async () => ({
        status: 200,
        text: await deps.metrics.registry.metrics(),
        contentType: deps.metrics.registry.contentType,
      }),
    },
    {
      method: 'GET',
      pattern: '/',
      access: 'browser',
      handle: async () => ({
        status: 200,
        text: renderStatusPage(await status()),
        contentType: 'text/html; charset=utf-8',
        headers: { 'content-security-policy': STATUS_PAGE_CSP, 'referrer-policy': 'no-referrer' },
      }),
    },
    { method: 'GET', pattern: '/v1/status', access: 'bearer', handle: async () => json(200, await status()) },
    {
      method: 'POST',
      pattern: '/v1/actions',
      access: 'bearer',
      body: 'json',
      handle: ({ body }) => pipeline.executeAction(body),
    },
    {
      method: 'POST',
      pattern: '/v1/interrupt',
      access: 'bearer',
      body: 'json',
      handle: ({ body }) => {
        const parsed = InterruptBodySchema.safeParse(body);
        if (!parsed.success) {
          return apiError('invalid_request', 'expected {session_key, reason?}', {
            issues: parsed.error.issues,
          });
        }
        if (client.state === 'revoked') return apiError('relay_revoked', 'relay credentials were revoked');
        if (!client.interrupt(parsed.data.session_key, parsed.data.reason)) {
          return apiError(
            'relay_not_connected',
            'no live connection to the connector; the interrupt was not sent',
          );
        }
        return json(202, { accepted: true });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/chats/:chat_id',
      access: 'bearer',
      handle: async ({ params }) => {
        // the same pipeline as POST /v1/actions {op: get_chat_info}: one validation, one bound
        const outcome = await pipeline.executeAction({ op: 'get_chat_info', chat_id: params.chat_id });
        if (outcome.status !== 200) return outcome;
        return json(200, (outcome.body as { result: unknown }).result);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/events',
      access: 'bearer',
      handle: ({ req, res }) => {
        if (!pull) return wrongMode();
        pull.attach(openEventStream(req, res, env.streams), lastEventIdOf(req));
        return 'handled';
      },
    },
    {
      method: 'POST',
      pattern: '/v1/events/:id/ack',
      access: 'bearer',
      handle: ({ params }) => {
        if (!pull) return wrongMode();
        const id = params.id ?? '';
        if (pull.ack(id) === 'acked') return { status: 204, body: undefined };
        return apiError('unknown_delivery', `delivery ${id.slice(0, 100)} is not outstanding`);
      },
    },
    ...deadLetterRoutes(deps.inbox),
  ];
}

const json = (status: number, body: unknown): JsonReply => ({ status, body });
