/**
 * An in-test plugin host: runs real plugin definitions (e.g. the built-in follow-up plugin)
 * in-process, in manifest order, with the same verdict shapes as the real PluginHost. Used until
 * (and beside) the pooled host, so the API tests exercise real plugin logic without a pool.
 */
import type { Identity, PluginContext, PluginDefinition, PluginStore } from '../../../core/index.js';
import type { Action } from '../../../core/protocol/actions.js';
import { CORE_OPS, CoreActionSchema } from '../../../core/protocol/actions.js';
import type {
  ActionValidation,
  ApiPluginHost,
  OutboundTags,
  OutboundVerdict,
  PoolStats,
} from '../../../sidecar/agent-api/deps.js';

/** A Map-backed store without TTL (tests are short). */
class MapStore implements PluginStore {
  private readonly map = new Map<string, string>();
  get<T = unknown>(key: string): T | undefined {
    const v = this.map.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  set(key: string, value: unknown): void {
    this.map.set(key, JSON.stringify(value));
  }
  remember(key: string, value: unknown): boolean {
    const json = JSON.stringify(value);
    if (this.map.get(key) === json) return false;
    this.map.set(key, json);
    return true;
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

const quietLog = { debug() {}, info() {}, warn() {}, error() {} };

/** Runs plugin hooks in-process. */
export class InProcessPluginHost implements ApiPluginHost {
  readonly plugins: readonly object[];
  private readonly contexts = new Map<string, PluginContext>();
  outboundCalls = 0;
  /** What the pool's `startFailing` says (no worker runs or can start). */
  startFailing = false;

  constructor(
    private readonly definitions: readonly PluginDefinition[],
    identities: readonly Identity[],
  ) {
    this.plugins = definitions.map((d) => ({ name: d.name, version: d.version ?? '0.0.0', enabled: true }));
    for (const d of definitions) {
      const options = d.options ? d.options.parse({}) : {};
      this.contexts.set(d.name, { name: d.name, options, store: new MapStore(), log: quietLog, identities });
    }
  }

  /** The context of a plugin (to seed its store). */
  context(name: string): PluginContext {
    return this.contexts.get(name)!;
  }

  validateAction(raw: unknown): ActionValidation {
    const op = (raw as { op?: unknown } | null)?.op;
    if (!raw || typeof raw !== 'object' || typeof op !== 'string') {
      return {
        ok: false,
        status: 400,
        code: 'invalid_action',
        message: 'an action is an object with a string op',
      };
    }
    const pluginSchema = this.definitions.find((d) => d.ops?.[op])?.ops?.[op];
    const schema = CORE_OPS.includes(op) ? CoreActionSchema : pluginSchema;
    if (!schema) return { ok: false, status: 422, code: 'unsupported_op', message: `unknown op ${op}` };
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      return {
        ok: false,
        status: 400,
        code: 'invalid_action',
        message: 'invalid action',
        issues: parsed.error.issues,
      };
    }
    return { ok: true, action: parsed.data as Action };
  }

  async runOutbound(action: Action, tags: OutboundTags): Promise<OutboundVerdict> {
    this.outboundCalls++;
    let current = { action, ...tags };
    for (const d of this.definitions) {
      const hook = d.outbound;
      if (!hook || (hook.ops !== '*' && !hook.ops.includes(current.action.op))) continue;
      let verdict: Awaited<ReturnType<typeof hook.hook>>;
      try {
        verdict = await hook.hook(current, this.contexts.get(d.name)!);
      } catch (err) {
        // a thrown `{code}` stands for how the real pool reports that failure (e.g. saturation)
        const code = (err as { code?: unknown }).code;
        return {
          kind: 'failed',
          plugin: d.name,
          error: { code: typeof code === 'string' ? code : 'CORE_ERR_PLUGIN_THREW', message: String(err) },
        };
      }
      if (!verdict) continue;
      if ('reject' in verdict) return { kind: 'rejected', plugin: d.name, rejection: verdict.reject };
      current = { ...current, ...verdict } as typeof current;
    }
    return { kind: 'ok', ...current };
  }

  stats(): PoolStats {
    const stats = { threads: 1, queued: 0, completed: this.outboundCalls, failed: 0 };
    return this.startFailing ? { ...stats, startFailing: true } : stats;
  }
}
