/**
 * The one error class of relay-sidecar and the catalogue of its stable codes.
 *
 * Callers branch on `code`, never on message text. Every code has a row in `docs/errors.md`;
 * `test/docs/errors-doc.test.ts` keeps the two in sync. Codes are never reused for a new meaning.
 */

/** Every stable error code, with the one-line meaning shown in `docs/errors.md`. */
export const ERROR_CODES = {
  // config
  CORE_ERR_CONFIG_INVALID: 'A configuration value (env or config file) failed validation.',
  CORE_ERR_CONFIG_FILE_UNREADABLE: 'The config file named by SIDECAR_CONFIG could not be read or parsed.',
  CORE_ERR_CONFIG_BOT_IDS_MALFORMED: 'GATEWAY_RELAY_BOT_IDS is not a JSON object of {platform: {botId}}.',
  // protocol / codec
  CORE_ERR_FRAME_NOT_JSON: 'A line from the connector is not valid JSON.',
  CORE_ERR_FRAME_NOT_OBJECT: 'A line from the connector is JSON but not an object.',
  CORE_ERR_FRAME_SCHEMA: 'A frame failed the schema of its type.',
  CORE_ERR_FRAME_UNKNOWN_TYPE:
    'A frame has a missing or unknown type, or echoes a sidecar-to-connector type.',
  CORE_ERR_FRAME_PARTIAL_OVERFLOW: 'The partial-line buffer exceeded maxPayload and was dropped.',
  CORE_ERR_FRAME_TOO_LARGE: 'A WebSocket message exceeded maxPayload; the socket was closed (1009).',
  // transport
  CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT: 'No valid descriptor arrived within the handshake timeout.',
  CORE_ERR_TRANSPORT_DIAL_FAILED: 'The WebSocket dial to the connector failed.',
  CORE_ERR_TRANSPORT_SOCKET_ERROR:
    'The open WebSocket reported an error (protocol violation, reset); it closes and the client redials.',
  CORE_ERR_TRANSPORT_PONG_TIMEOUT:
    'No pong within pongTimeoutMs: the socket was declared dead and terminated.',
  CORE_ERR_TRANSPORT_UNAUTHORIZED: 'The connector closed the socket with 4401.',
  CORE_ERR_TRANSPORT_REVOKED:
    'Two non-expired 4401 closes after a handshake: credentials revoked, no more dials.',
  CORE_ERR_TRANSPORT_SEND_FAILED: 'Writing a frame to the socket failed.',
  CORE_ERR_TRANSPORT_SEND_BUFFER_FULL:
    'The connector is not reading: the send buffer passed relay.maxSendBufferBytes; frames are refused until it drains.',
  CORE_ERR_TRANSPORT_UNAUTHENTICATED:
    'No gateway id and secret configured: dialing without authentication (dev only).',
  CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT: 'No going_idle_ack arrived within the timeout.',
  // outbound
  CORE_ERR_OUTBOUND_TIMEOUT: 'No outbound_result within outboundTimeoutMs (ambiguous).',
  CORE_ERR_OUTBOUND_UNSUPPORTED_OP: 'The op is not advertised by the descriptor (op gating).',
  CORE_ERR_OUTBOUND_INVALID_ACTION: 'An action failed its schema.',
  // auth
  CORE_ERR_AUTH_TOKEN_MALFORMED: 'An upgrade token could not be decoded or has fewer than three parts.',
  CORE_ERR_AUTH_TOKEN_EXPIRED: 'An upgrade token is past its expiry.',
  CORE_ERR_AUTH_TOKEN_BAD_SIGNATURE: 'An upgrade token signature matches no secret of the rotation list.',
  // router
  CORE_ERR_ROUTER_NO_ROUTE: 'A decoded frame has no route in the route table.',
  CORE_ERR_ROUTER_HANDLER_FAILED: 'A route handler threw; the frame was skipped and the read loop goes on.',
  // plugins
  CORE_ERR_PLUGIN_MANIFEST_INVALID: 'plugins.json failed validation.',
  CORE_ERR_PLUGIN_LOAD_FAILED: 'A plugin module could not be loaded.',
  CORE_ERR_PLUGIN_NAME_MISMATCH: "A plugin module's export does not match its declared name.",
  CORE_ERR_PLUGIN_OPTIONS_INVALID: "A plugin's options failed its own schema.",
  CORE_ERR_PLUGIN_THREW: 'A plugin hook threw.',
  CORE_ERR_PLUGIN_UNKNOWN_OP:
    'An outbound hook lists an op that neither the core nor an enabled plugin defines; it never runs on it.',
  CORE_ERR_PLUGIN_STORE_FAILED: "A plugin's store writes could not be committed; its task failed.",
  CORE_ERR_PLUGIN_STORE_KEYS_CAPPED:
    'A plugin keeps more store keys than store.maxKeysPerPlugin; those closest to expiry are evicted.',
  CORE_ERR_PLUGIN_STORE_BYTES_CAPPED:
    'A plugin keeps more store bytes than store.maxBytesPerPlugin; the keys closest to expiry are evicted.',
  CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE:
    'A plugin wrote a store key longer than store.maxKeyBytes; the write was refused (thrown to the hook).',
  CORE_ERR_PLUGIN_STORE_VALUE_TOO_LARGE:
    'A plugin wrote a store value larger than store.maxValueBytes as JSON; the write was refused (thrown to the hook).',
  CORE_ERR_PLUGIN_BAD_RESULT:
    'A plugin hook returned a value that fails the hook result schema (an invalid converted or replacement event included).',
  CORE_ERR_PLUGIN_TIMEOUT: 'A plugin hook exceeded its timeoutMs; its worker was terminated.',
  CORE_ERR_PLUGIN_WORKER_DIED:
    'A plugin worker ended (a hook called process.exit, out of memory, a crash): during a task, or outside one.',
  CORE_ERR_PLUGIN_WORKER_BOOT_FAILED:
    'A plugin worker died while it imported the plugins, before it finished booting; the tasks sent to it failed transiently.',
  CORE_ERR_PLUGIN_WORKER_START_FAILED:
    'A plugin worker failed before it was ready (its entry did not load, or its thread did not start); the tasks waiting for a worker failed transiently.',
  CORE_ERR_PLUGIN_WORKER_CRASH_LOOP:
    'Plugin workers keep dying right after they start: a plugin module kills every worker that imports it.',
  CORE_ERR_PLUGIN_STRAY_ERROR:
    'Plugin code threw outside any hook call (a timer, an unhandled rejection); the worker goes on.',
  CORE_ERR_PLUGIN_POOL_SATURATED: 'The worker pool queue is full; the task was not run.',
  CORE_ERR_PLUGIN_REJECTED: 'A plugin rejected its input or an action (final verdict).',
  CORE_ERR_PLUGIN_PLATFORM_DISABLED: 'A forward arrived for a platform whose plugin is disabled or absent.',
  CORE_ERR_PLUGIN_QUARANTINED: 'A buffered frame failed transiently maxAttempts times and was dead-lettered.',
  CORE_ERR_PLUGIN_POOL_CLOSED:
    'A plugin task was submitted or still pending while the worker pool was closing.',
  CORE_ERR_PLUGIN_CONFLICT:
    'Two enabled plugins claim the same passthrough platform or op, or a plugin redefines a core op.',
  // store / inbox
  CORE_ERR_STORE_OPEN_FAILED: 'The durable store could not be opened.',
  CORE_ERR_STORE_CHECKPOINT_FAILED:
    'The background WAL checkpoint failed; connections checkpoint themselves meanwhile.',
  CORE_ERR_STORE_CHECKPOINT_STOP_LATE:
    'The checkpoint thread had not ended when its stop ran out of time; the process waits for it to end.',
  CORE_ERR_STORE_SCHEMA_TOO_NEW:
    'The store was migrated by a newer relay-sidecar than this one; the start was refused.',
  CORE_ERR_STORE_REPLACED:
    'The store file was moved, copied over or deleted while the sidecar ran; from then on the inbox commits nothing and acks nothing until a restart.',
  CORE_ERR_INBOX_COMMIT_FAILED:
    'Committing an event to the inbox failed, or it came after the inbox closed; the frame was not acked.',
  CORE_ERR_INBOX_INGEST_FAILED:
    'Processing a frame for the inbox threw unexpectedly; it was treated as a transient failure.',
  CORE_ERR_INBOX_OVERLOADED:
    'The ingest pipeline ran past twice inbox.maxIngestPending frames; every frame is still taken.',
  CORE_ERR_INBOX_UPKEEP_FAILED:
    'An inbox upkeep step (pruning, queued replays) failed; the next pass retries.',
  CORE_ERR_INBOX_DEAD_LETTERS_DROPPED: 'Dead letters past the cap (100 000) were dropped, oldest first.',
  CORE_ERR_INBOX_REDACTION_FAILED:
    "A dead letter's redaction threw; the frame was dead-lettered without its body, path query or headers, and acked.",
  CORE_ERR_INBOX_REPLAY_FAILED:
    'A dead letter could not be replayed (no replayable payload, or a store error).',
  // agent delivery and API
  CORE_ERR_DELIVERY_FAILED:
    'A delivery attempt failed (push: non-2xx, timeout or refused; either mode: its envelope could not be read from the store); it will be retried.',
  CORE_ERR_DELIVERY_AGENT_UNREACHABLE:
    'Push mode: consecutive attempts found the agent down (or it answered Retry-After); no session sends, one probe at a time until it answers.',
  CORE_ERR_DELIVERY_REJECTED:
    'The agent rejected a delivery (4xx) maxRejections times; it was dead-lettered.',
  CORE_ERR_DELIVERY_RESPONSE_INVALID:
    'A 2xx push response body is not JSON, its `actions` is not a list, it is larger than api.maxBodyBytes or nested more than 64 levels deep; delivered, actions ignored.',
  CORE_ERR_DELIVERY_ACTION_FAILED: 'An action from a push response body failed to execute; not re-delivered.',
  CORE_ERR_DELIVERY_STREAMS_COMPETE:
    'Agent event streams (GET /v1/events) replaced each other 3 times within a minute: two consumers take turns.',
  CORE_ERR_DELIVERY_ACTION_AMBIGUOUS:
    'A push response action was found started but not settled (the process died while it ran): it may have been sent, so it is not run again.',
  CORE_ERR_DELIVERY_OUTBOX_FULL:
    'agent.maxResponseActions push response actions are stored: no delivery is sent to the push agent until some have run.',
  CORE_ERR_API_UNAUTHORIZED: 'A local API call had a missing or wrong bearer token.',
  CORE_ERR_API_BAD_REQUEST:
    "A local API call had an invalid body, or was a request node's HTTP parser refused (broken framing, oversize headers, an unknown `Expect`).",
  CORE_ERR_API_HOST_NOT_ALLOWED:
    'A local API call named a Host that is not loopback nor in api.allowedHosts (DNS-rebinding guard); answered 403.',
  CORE_ERR_API_LISTEN_FAILED: 'The local API could not bind its address.',
  CORE_ERR_API_TOKEN_FILE_UNUSABLE:
    'The generated API token file cannot be created, read or restricted to mode 0600.',
  CORE_ERR_API_HANDLER_FAILED:
    'An agent API handler threw, or its answer could not be serialised; the call was answered 500 internal_error.',
  // side routes and lifecycle
  CORE_ERR_ENROLL_FAILED: 'POST /relay/enroll failed.',
  CORE_ERR_PROVISION_FAILED: 'POST /relay/provision failed (fail-soft).',
  CORE_ERR_POLICY_FAILED: 'POST /relay/policy failed (fail-soft).',
  CORE_ERR_PROVISION_NO_SECRET:
    'POST /relay/provision succeeded but issued no secret (secretIssued:false) and none is configured.',
  CORE_ERR_MEDIA_TOO_LARGE: 'A media upload is larger than the 25 MiB limit of POST /relay/media.',
  CORE_ERR_MEDIA_UPLOAD_FAILED: 'POST /relay/media failed.',
  CORE_ERR_ENV_FILE_WRITE_FAILED: 'The env file of `relay-sidecar enroll` could not be read or written.',
  CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED:
    'A shutdown step was cut off by its share of the budget, or failed; the later steps still ran.',
  CORE_ERR_INTERNAL_THREW: 'An internal step threw where nothing may escape; the sidecar went on (a bug).',
} as const satisfies Record<string, string>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Plain error data: the only shape that crosses a thread or process boundary. */
export interface ErrorData {
  readonly code: string;
  readonly message: string;
}

/** The base error: a stable `code`, a message safe to log (never a secret), optional details. */
export class RelayError extends Error {
  override readonly name = 'RelayError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  /** The plain-data form of this error. */
  toData(): ErrorData {
    return { code: this.code, message: this.message };
  }
}

/** True when `code` is a known code of the catalogue. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * The message of anything thrown: an Error's `message`, the string `message` of an error-like
 * object (thrown across a realm or by a library that throws plain objects), else its string form.
 */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}

/**
 * Error text without URLs, at most 200 characters: a URL may carry credentials in its userinfo,
 * path or query (a webhook token, `?token=`).
 */
export function scrubUrls(text: string | undefined): string {
  return withoutUrls(text ?? '').slice(0, 200);
}

/** `text` with every URL replaced by `[url]` (its length kept to the caller's bound). */
export function withoutUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]');
}

/** Normalise anything thrown into plain `{code, message}` data; unknown errors get `fallback`. */
export function toErrorData(err: unknown, fallback: ErrorCode): ErrorData {
  if (err instanceof RelayError) return err.toData();
  if (err && typeof err === 'object' && 'code' in err && isErrorCode((err as { code: unknown }).code)) {
    return {
      code: (err as { code: string }).code,
      message: String((err as { message?: unknown }).message ?? ''),
    };
  }
  const message = errorMessage(err);
  return { code: fallback, message };
}
