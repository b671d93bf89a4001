/**
 * The agent API's error answers: one JSON shape, `{error: {code, message, issues?}}`, with stable
 * lowercase codes. Agents branch on `code` (and the HTTP status), never on `message`.
 *
 * Plugin rejections (e.g. `credential_in_follow_up` from the follow-up plugin) carry their own
 * code and status; the codes below are the ones the API itself produces.
 */

/** One API error code: its HTTP status, what it means, and what the caller should do. */
export interface ApiErrorInfo {
  readonly status: number;
  readonly meaning: string;
  readonly remedy: string;
}

/** Every error code the agent API produces itself (the lead copies these into docs/errors.md). */
export const API_ERROR_CODES = {
  unauthorized: {
    status: 401,
    meaning: 'Missing or wrong `Authorization: Bearer <token>`.',
    remedy: 'Send the token from SIDECAR_API_TOKEN or from `<data dir>/api-token`.',
  },
  host_not_allowed: {
    status: 403,
    meaning:
      'The `Host` header names neither a loopback address nor `localhost` nor a name in api.allowedHosts: a web page pointing its own name at 127.0.0.1 (DNS rebinding) is refused.',
    remedy:
      'Address the API as 127.0.0.1, [::1] or localhost; to use another name that resolves to loopback, list it in api.allowedHosts.',
  },
  not_found: {
    status: 404,
    meaning: 'No route has this path.',
    remedy: 'Check the path against the agent API reference.',
  },
  method_not_allowed: {
    status: 405,
    meaning: 'The path exists but not with this method (the `Allow` header lists the methods).',
    remedy: 'Use one of the methods in the `Allow` header.',
  },
  body_too_large: {
    status: 413,
    meaning:
      'The request body exceeds api.maxBodyBytes (1 MiB by default), on any route, even one that takes no body; the rest of it was not read.',
    remedy: 'Send a smaller body (large media go by URL, not inline).',
  },
  invalid_json: {
    status: 400,
    meaning: 'The request body is empty or not valid JSON.',
    remedy: 'Send one UTF-8 JSON object as the body.',
  },
  json_too_deep: {
    status: 400,
    meaning: 'The request body nests objects or arrays more than 64 levels deep; it was not parsed.',
    remedy: 'Flatten the body (usually `metadata`) to at most 64 levels, the outermost object included.',
  },
  invalid_request: {
    status: 400,
    meaning: 'The body or a path parameter of a non-action route failed validation (`issues` says where).',
    remedy: 'Fix the fields named in `issues`.',
  },
  invalid_action: {
    status: 400,
    meaning: 'The action failed its schema (`issues` holds the zod issues); nothing was sent.',
    remedy: 'Fix the fields named in `issues`; see the outbound table of the relay contract.',
  },
  unsupported_op: {
    status: 422,
    meaning: 'The op is unknown, or not advertised by the descriptor of the target platform.',
    remedy: 'Check `descriptors[].effective_ops` in /v1/status; fall back to an advertised op.',
  },
  plugin_failed: {
    status: 502,
    meaning: 'An outbound plugin hook crashed, timed out or returned garbage; nothing was sent.',
    remedy: 'Retry later; check the sidecar log for the plugin name and its CORE_ERR_PLUGIN_* code.',
  },
  relay_revoked: {
    status: 503,
    meaning: 'The relay credentials were revoked; the sidecar no longer dials the connector.',
    remedy: 'Re-enroll the gateway (new secret) and restart the sidecar. Do not retry.',
  },
  relay_not_connected: {
    status: 503,
    meaning: 'No live connection to the connector: the interrupt frame could not be sent.',
    remedy: 'Retry after /readyz answers 200.',
  },
  busy: {
    status: 503,
    meaning:
      'api.maxInFlightActions action calls are already in flight, or the plugin worker pool queue is full.',
    remedy:
      'Retry with backoff (honour Retry-After); raise api.maxInFlightActions or pool.maxQueue / pool.maxThreads if this is the normal load.',
  },
  wrong_mode: {
    status: 409,
    meaning: 'A pull-mode route (/v1/events) was called while the sidecar delivers by push.',
    remedy: 'Set AGENT_MODE=pull (and unset AGENT_URL) to use the SSE stream.',
  },
  unknown_delivery: {
    status: 404,
    meaning: 'The delivery id to ack is not outstanding (never sent, already acked, or from an old stream).',
    remedy: 'Nothing: treat as already acknowledged.',
  },
  unknown_dead_letter: {
    status: 404,
    meaning: 'No dead letter has this id (never existed, or already replayed).',
    remedy: 'List them with `GET /v1/dead-letters` or `relay-sidecar dead-letters list`.',
  },
  not_replayable: {
    status: 409,
    meaning:
      'The dead letter holds no payload that can run again (a frame that never parsed, or a forward stored without its body: `bodyOmitted`).',
    remedy: 'Inspect it with `GET /v1/dead-letters/{id}`; fix the sender; it cannot be replayed.',
  },
  malformed_request: {
    status: 400,
    meaning:
      "The request is not well-formed HTTP/1.1 (broken chunked framing, Content-Length and Transfer-Encoding together, a bad header): node's parser refused it before any route ran; the connection is closed.",
    remedy: 'Fix the HTTP client; a plain HTTP library does not send this.',
  },
  headers_too_large: {
    status: 431,
    meaning: "The request headers exceed node's parser limit (16 KiB); the connection is closed.",
    remedy: 'Send fewer or shorter headers.',
  },
  request_timeout: {
    status: 408,
    meaning:
      "The request did not arrive completely within node's request timeouts; the connection is closed.",
    remedy: 'Send the whole request at once; check the client is not stalled.',
  },
  expectation_failed: {
    status: 417,
    meaning: 'The request carries an `Expect` other than `100-continue`.',
    remedy: 'Drop the `Expect` header (or use `100-continue`).',
  },
  internal_error: {
    status: 500,
    meaning: 'A handler failed unexpectedly (logged as CORE_ERR_API_HANDLER_FAILED).',
    remedy: 'Retry; report the sidecar log line if it persists.',
  },
} as const satisfies Record<string, ApiErrorInfo>;

/** A stable error code of the agent API itself. */
export type ApiErrorCode = keyof typeof API_ERROR_CODES;

/** The body of every error answer. */
export interface ApiErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly issues?: readonly unknown[];
    /** The plugin that rejected or failed an action, when one did. */
    readonly plugin?: string;
  };
}

/** What a handler answers: a status and a JSON body (the transport adds headers). */
export interface JsonReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An error reply with the status of `code`'s catalogue row. */
export function apiError(
  code: ApiErrorCode,
  message: string,
  extra: { issues?: readonly unknown[]; headers?: Record<string, string> } = {},
): JsonReply {
  return errorReply(API_ERROR_CODES[code].status, code, message, extra);
}

/** An error reply with an explicit status (plugin rejections, validation verdicts). */
export function errorReply(
  status: number,
  code: string,
  message: string,
  extra: { issues?: readonly unknown[]; plugin?: string; headers?: Record<string, string> } = {},
): JsonReply {
  const error: ApiErrorBody['error'] = {
    code,
    message,
    ...(extra.issues ? { issues: extra.issues } : {}),
    ...(extra.plugin ? { plugin: extra.plugin } : {}),
  };
  return { status, body: { error }, ...(extra.headers ? { headers: extra.headers } : {}) };
}
