/**
 * The one strict configuration schema. Every default lives here with its unit in the key name
 * (the `relay` section in relay-schema.ts, the units in units.ts). Env variables (see
 * `env-map.ts`) and the optional config file (`SIDECAR_CONFIG`) both feed it; `docs/config.md` is
 * checked against it by a test.
 */
import { z } from 'zod';
import { DEFAULT_STORE_LIMITS } from '../store/store-limits.js';
import { ApiTokenSchema } from './api-token-rule.js';
import { ENV_BOOLEAN_WORDS } from './env-map.js';
import { agentUrlProblem } from './http-url.js';
import { LISTEN_FORM, listenAddressProblem } from './listen-address.js';
import { RelayConfigSchema } from './relay-schema.js';
import { ageMs, count, ms } from './units.js';

export { IdentitySchema, PolicySchema, RelayConfigSchema } from './relay-schema.js';
export { MAX_TIMER_MS } from './units.js';
/** Delivery to the agent process. */
export const AgentConfigSchema = z.strictObject({
  /** `push` (POST to url) or `pull` (SSE). Default: push when url is set, else pull. */
  mode: z.enum(['push', 'pull']).optional(),
  /**
   * Push delivery URL: absolute http(s) with a host (push delivery POSTs with an HTTP client;
   * checked here so a bad one stops the start naming AGENT_URL, before anything opens).
   */
  url: z
    .string()
    .min(1)
    .superRefine((url, ctx) => {
      const problem = agentUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** Sessions delivered in parallel. 8. */
  concurrency: count(8),
  /** Push request timeout, ms. 30 s. */
  timeoutMs: ms(30_000),
  /** Pull mode: most unacked deliveries outstanding. 64. */
  maxInFlight: count(64),
  /** 4xx rejections (not 408/429) before a delivery is dead-lettered. 3. */
  maxRejections: count(3),
  /**
   * Push: consecutive failed attempts (refused, timeout, 5xx, 408/429; not a 4xx), from any
   * sessions, after which the agent is taken for unreachable and only one probe at a time is
   * sent until it answers. 3.
   */
  unreachableAfterFailures: count(3),
  /** Push retry backoff base, ms. 250 ms. */
  retryBaseMs: ms(250),
  /** Push retry backoff cap, ms. 30 s. */
  retryMaxMs: ms(30_000),
  /** Push response actions stored, waiting to run, at most (more ⇒ the delivery is retried). 10 000. */
  maxResponseActions: count(10_000),
});

/** The local agent API. */
export const ApiConfigSchema = z.strictObject({
  /** `host:port` or `unix:/path`. Loopback by default. The form is checked here, the host when binding. */
  listen: z
    .string()
    .min(1)
    .superRefine((listen, ctx) => {
      const problem = listenAddressProblem(listen);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem}; ${LISTEN_FORM}` });
    })
    .default('127.0.0.1:7700'),
  /** Bearer token; generated into `<dataDir>/api-token` (0600) when unset. Never logged. */
  token: ApiTokenSchema,
  /** Largest request body, bytes. 1 MiB. */
  maxBodyBytes: count(1024 * 1024),
  /** Most concurrent /v1/actions calls in flight. */
  maxInFlightActions: count(10_000),
  /**
   * Host names besides loopback ones the API answers on TCP (the `Host` header; DNS-rebinding
   * guard): for a name of the operator's own that resolves to 127.0.0.1.
   */
  allowedHosts: z
    .array(
      z
        .string()
        .regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, 'must be a lower-case host name without port'),
    )
    .max(32)
    .default([]),
});

/** The plugin worker pool. */
export const PoolConfigSchema = z
  .strictObject({
    /** Workers kept, and the tasks in flight at once under normal load. */
    minThreads: z.number().int().min(1).default(1),
    /**
     * Most workers: those beyond minThreads are spares, started only while a task stalls. At most
     * 64: every worker's store calls hold a gate slot (core/store/store-calls.ts, 256 a process),
     * with room for the threads still ending and a renewed pool's beside the old one's.
     */
    maxThreads: z.number().int().min(1).max(64).default(2),
    /** A task in flight this long lets one more go to a spare worker, ms. 100. */
    spareAfterMs: ms(100),
    /** Most tasks waiting for a thread; more ⇒ saturated (transient). */
    maxQueue: count(1_000),
    /** Default per-task timeout, ms, when a plugin sets none. 2 s. */
    taskTimeoutMs: ms(2_000),
    /** Worker heap limit (old generation), MiB. */
    maxOldGenerationSizeMb: count(128),
    /**
     * Worker young generation limit, MiB. 8: hooks allocate little per task, and V8 otherwise grows
     * each worker's young generation to ~27 MiB under load (benchmarks: RSS).
     */
    maxYoungGenerationSizeMb: count(8),
    /** Idle worker lifetime, ms. */
    idleTimeoutMs: ms(60_000),
  })
  .superRefine((pool, ctx) => {
    // piscina would take the smaller of the two, so `minThreads: 4` beside the default maximum of 2
    // ran two workers without a word; the start is refused instead, naming both keys
    if (pool.minThreads > pool.maxThreads) {
      ctx.addIssue({
        code: 'custom',
        path: ['minThreads'],
        message: `must not exceed pool.maxThreads (${pool.maxThreads}); set pool.maxThreads to at least ${pool.minThreads}, or lower pool.minThreads`,
      });
    }
  });

/** The durable inbox and store. */
export const InboxConfigSchema = z.strictObject({
  /** Dedupe keys older than this are forgotten, ms. 7 days. Counts time the sidecar ran, not a forward step of the wall clock. */
  dedupeMaxAgeMs: ageMs(7 * 24 * 3600 * 1000),
  /** At most this many dedupe keys are kept. */
  dedupeMaxEntries: count(200_000),
  /** Transient failures of one buffered frame before it is quarantined. 5. */
  maxAttempts: count(5),
  /** Delivered events are kept this long for inspection, ms. 1 h. */
  retainDeliveredMs: ageMs(3600 * 1000),
  /** Dead letters kept at most, oldest dropped first; each keeps its frame or event. 100 000. */
  maxDeadLetters: count(100_000),
  /** Frames in the ingest pipeline (plugins → commit) before socket reading pauses. 10 000. */
  maxIngestPending: count(10_000),
  /**
   * Least time between two commits of delivery bookkeeping under load, ms (0 = one per turn).
   * Bounds write transactions to 1000/groupCommitMs per second. 5.
   */
  groupCommitMs: z.number().int().min(0).max(1_000).default(5),
  /**
   * SQLite page cache of the inbox's connection, MiB. 4: the read path writes at the right edge
   * of its tables, so a small cache holds the pages it touches (benchmarks: memory).
   */
  pageCacheMb: z.number().int().min(1).max(1_024).default(4),
});

/** The plugin stores (`ctx.store`). */
export const StoreConfigSchema = z
  .strictObject({
    /**
     * Most keys one plugin keeps: past it, each upkeep pass evicts the keys closest to expiry (those
     * without expiry last). 100 000: a per-chat or per-session key of the built-ins (~250 bytes)
     * stays far below it, and it bounds a plugin's share of the file to ~25 MiB of such keys.
     */
    maxKeysPerPlugin: count(100_000),
    /**
     * Most bytes one plugin keeps (UTF-8 bytes of its keys and of their values as JSON): past it,
     * each upkeep pass evicts the keys closest to expiry as for the key cap. 256 MiB: ten times what
     * the built-ins' keys (~250 bytes) take at the key cap, while 100 000 values of `maxValueBytes`
     * would be 100 GiB.
     */
    maxBytesPerPlugin: count(256 * 1024 * 1024),
    /** Most UTF-8 bytes of one key; a longer one is refused (the write throws). 1 KiB. At most 64 KiB. */
    maxKeyBytes: z
      .number()
      .int()
      .positive()
      .max(64 * 1024, 'must be at most 65536 bytes (64 KiB): a key names a value, it is not one')
      .default(DEFAULT_STORE_LIMITS.maxKeyBytes),
    /**
     * Most UTF-8 bytes of one value as JSON; a larger one is refused (the write throws). 1 MiB: state
     * for the next event, not a blob store. At most 64 MiB, and at most 1/8 of the worker heap
     * (`pool.maxOldGenerationSizeMb`; {@link VALUE_HEAP_FACTOR}): a pool worker holds it several times.
     */
    maxValueBytes: z
      .number()
      .int()
      .positive()
      .max(64 * 1024 * 1024, 'must be at most 67108864 bytes (64 MiB): the store is not a blob store')
      .default(DEFAULT_STORE_LIMITS.maxValueBytes),
    /** Time between two upkeep passes (expired keys swept, the key cap enforced), ms. 10 s. */
    upkeepIntervalMs: ms(10_000),
  })
  .superRefine((store, ctx) => {
    // one key at both limits past the byte cap would be written, then evicted at the next pass
    const one = store.maxKeyBytes + store.maxValueBytes;
    if (one > store.maxBytesPerPlugin) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxBytesPerPlugin'],
        message: `must be at least store.maxKeyBytes + store.maxValueBytes (${one}): raise it, or lower those`,
      });
    }
  });

/** Session-key shaping. */
export const SessionConfigSchema = z.strictObject({
  /** Non-DM, no thread: one session per participant. Default true. */
  groupSessionsPerUser: z.boolean().default(true),
  /** In a thread: one session per participant. Default false. */
  threadSessionsPerUser: z.boolean().default(false),
});

/** Shutdown. */
export const ShutdownConfigSchema = z.strictObject({
  /** Whole graceful-shutdown budget, ms. 10 s. */
  budgetMs: ms(10_000),
});

/** `a, b or c`. */
const anyOf = (words: readonly string[]) => `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;

/** What `log.pretty` accepts, in the words of each source. */
const PRETTY_FORM =
  `LOG_PRETTY takes ${anyOf(ENV_BOOLEAN_WORDS.on)} for human-readable logs and ` +
  `${anyOf(ENV_BOOLEAN_WORDS.off)} (or unset) for JSON lines; the config file takes true or false`;

/** Logging. */
export const LogConfigSchema = z.strictObject({
  /** pino level. `info`. */
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Human-readable logs (dev only). false. */
  pretty: z.boolean({ error: `must be on or off: ${PRETTY_FORM}` }).default(false),
});

/**
 * How many times `store.maxValueBytes` a pool worker's old generation must hold. A value near the
 * cap lives in a worker several times over while a hook stores and reads it: the hook's object,
 * its JSON text (two bytes a character once it holds any character past Latin-1), the text `get`
 * reads back and the object parsed from it, plus the garbage of the previous event's copies; a
 * worker that reaches its heap limit dies, failing its task and every later one that stores the
 * value (docs/decisions.md, "Store value size and the worker heap").
 */
export const VALUE_HEAP_FACTOR = 8;

/** The worker heap must hold {@link VALUE_HEAP_FACTOR} values at `store.maxValueBytes`. */
function checkValueFitsHeap(config: z.infer<typeof ConfigObjectSchema>, ctx: z.RefinementCtx): void {
  const needMb = Math.ceil((config.store.maxValueBytes * VALUE_HEAP_FACTOR) / (1024 * 1024));
  if (needMb <= config.pool.maxOldGenerationSizeMb) return;
  const fits = Math.floor((config.pool.maxOldGenerationSizeMb * 1024 * 1024) / VALUE_HEAP_FACTOR);
  ctx.addIssue({
    code: 'custom',
    path: ['store', 'maxValueBytes'],
    message:
      `must be at most 1/${VALUE_HEAP_FACTOR} of the worker heap, pool.maxOldGenerationSizeMb ` +
      `(${config.pool.maxOldGenerationSizeMb} MiB, so at most ${fits} bytes): a worker holds a value several ` +
      `times while a hook stores and reads it and dies at its heap limit; lower store.maxValueBytes, or raise ` +
      `pool.maxOldGenerationSizeMb to at least ${needMb}`,
  });
}

/** The whole configuration (nested form, as in the config file), before the cross-key checks. */
const ConfigObjectSchema = z.strictObject({
  relay: RelayConfigSchema.default(RelayConfigSchema.parse({})),
  agent: AgentConfigSchema.default(AgentConfigSchema.parse({})),
  api: ApiConfigSchema.default(ApiConfigSchema.parse({})),
  pool: PoolConfigSchema.default(PoolConfigSchema.parse({})),
  inbox: InboxConfigSchema.default(InboxConfigSchema.parse({})),
  store: StoreConfigSchema.default(StoreConfigSchema.parse({})),
  session: SessionConfigSchema.default(SessionConfigSchema.parse({})),
  shutdown: ShutdownConfigSchema.default(ShutdownConfigSchema.parse({})),
  log: LogConfigSchema.default(LogConfigSchema.parse({})),
  /** Inbox, store, generated token. */
  dataDir: z.string().min(1).default('./.relay-sidecar'),
  /** Plugin manifest path. */
  pluginsPath: z.string().min(1).default('./plugins.json'),
});

/** The whole configuration (nested form, as in the config file). */
export const ConfigSchema = ConfigObjectSchema.superRefine(checkValueFitsHeap);

/** The validated configuration, before freezing. */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** The validated, frozen configuration. `agent.mode` is always resolved. */
export type Config = DeepReadonly<
  z.infer<typeof ConfigSchema> & { agent: z.infer<typeof AgentConfigSchema> & { mode: 'push' | 'pull' } }
>;

/** Recursively readonly. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
