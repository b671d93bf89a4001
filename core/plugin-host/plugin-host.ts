/**
 * The plugin host (spec/plugins.md, "Model" and "Isolation"): loads and checks the manifest, owns
 * the worker pool and the main thread's store connection, and turns every hook chain into an
 * outcome value. No method rejects: plugin failures come back as `failed` outcomes, already logged
 * once (with the plugin name and code) and counted — callers must not log them again.
 */
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PluginPool, PoolStats } from '../pool/plugin-pool.js';
import type { ChainTask, ConvertValue, InboundValue, OutboundValue } from '../pool/task-protocol.js';
import { type Action, CORE_OPS } from '../protocol/actions.js';
import { isStrictBase64, type MessageEvent, type PassthroughForward } from '../protocol/payloads.js';
import type { Database } from '../store/database.js';
import type { KvStore } from '../store/kv-store.js';
import { type ActionValidation, validateAction } from './action-validator.js';
import { ChainRunner } from './chain-runner.js';
import { type HostParts, openHostParts, type PluginHostOptions } from './host-parts.js';
import type { ConvertOutcome, InboundOutcome, OutboundOutcome } from './outcomes.js';
import type { PluginInfo } from './plugin-loader.js';
import type { PluginTable } from './plugin-table.js';
import { StoreUpkeep } from './store-upkeep.js';

export type { ActionValidation } from './action-validator.js';
export type { PluginHostOptions } from './host-parts.js';
export type { ConvertOutcome, InboundOutcome, OutboundOutcome } from './outcomes.js';
export type { PluginInfo } from './plugin-loader.js';

/** The plugin host. */
export class PluginHost {
  /** Every manifest entry (disabled ones included), in manifest order. */
  readonly plugins: readonly PluginInfo[];
  private readonly table: PluginTable;
  private readonly pool: PluginPool;
  private readonly db: Database;
  private readonly kv: KvStore;
  private readonly runner: ChainRunner;
  private readonly log: Logger;
  private readonly inboundBudgets: readonly number[];
  private readonly upkeep: StoreUpkeep;
  private closing: Promise<void> | undefined;

  private constructor(
    parts: HostParts,
    opts: PluginHostOptions,
    private readonly metrics: Metrics = opts.metrics,
  ) {
    ({ table: this.table, pool: this.pool, db: this.db, kv: this.kv } = parts);
    this.plugins = Object.freeze(parts.infos.map((i) => Object.freeze(i)));
    this.log = opts.log.child({ component: 'plugin-host' });
    const { minThreads, maxThreads, spareAfterMs } = opts.config.pool;
    this.runner = new ChainRunner(parts.pool, parts.table, opts.log, opts.metrics, {
      active: Math.min(minThreads, maxThreads),
      max: maxThreads,
      spareAfterMs,
    });
    this.inboundBudgets = parts.table.budgetsOf(parts.table.inboundChain);
    const storeLog = opts.log.child({ component: 'plugin-store' });
    const names = parts.infos.map((p) => p.name);
    this.upkeep = new StoreUpkeep(parts.kvUpkeep, opts.config.store, storeLog, metrics, names);
  }

  /**
   * Validate the manifest, check every enabled plugin in a short-lived worker thread, open the
   * store, start the pool and load the plugins in its workers. Throws a RelayError naming the plugin and the
   * problem (`CORE_ERR_PLUGIN_*`, `CORE_ERR_STORE_OPEN_FAILED`): the sidecar must refuse to start.
   */
  static async load(opts: PluginHostOptions): Promise<PluginHost> {
    return new PluginHost(await openHostParts(opts), opts);
  }

  /** Convert one forward with the plugin of its platform. Never rejects. */
  async convertForward(forward: PassthroughForward): Promise<ConvertOutcome> {
    const index = this.table.converter(forward.platform);
    if (index === undefined) {
      const platform = String(forward.platform).slice(0, 64);
      const msg = 'forward dropped: no enabled plugin converts its platform';
      reportError(this.log, this.metrics, 'CORE_ERR_PLUGIN_PLATFORM_DISABLED', msg, { platform });
      this.metrics.forwardsDropped.inc({
        platform: this.metrics.dropPlatforms.of(platform),
        reason: 'disabled',
      });
      return { kind: 'disabled', platform: forward.platform };
    }
    const plugin = this.table.name(index);
    // the body must be strict base64 (the edge schema checks it; this guards direct callers)
    if (!isStrictBase64(forward.bodyB64)) return this.rejected(plugin, 'body_not_base64');
    const reply = await this.runner.run({ k: 'convert', chain: [index], forward }, 'convert');
    if (!reply.ok) return { kind: 'failed', plugin, error: reply.error };
    const value = reply.value as ConvertValue;
    if (value.events.length === 0) return this.rejected(plugin, value.reason ?? 'no_events', value.benign);
    return {
      kind: 'events',
      plugin,
      events: value.events.map((e) => ({ event: e.event, capabilities: [...e.capabilities] })),
    };
  }

  /** Run the inbound chain on one event. Never rejects; no inbound plugin ⇒ no pool round trip. */
  async runInbound(input: {
    event: MessageEvent;
    sessionKey: string;
    capabilities: string[];
  }): Promise<InboundOutcome> {
    const chain = this.table.inboundChain;
    if (chain.length === 0) return { kind: 'event', event: input.event, capabilities: input.capabilities };
    const reply = await this.runner.run({ k: 'inbound', chain, input }, 'inbound', this.inboundBudgets);
    if (!reply.ok)
      return { kind: 'failed', plugin: this.table.name(chain[reply.at] ?? -1), error: reply.error };
    const value = reply.value as InboundValue;
    if ('unchanged' in value) return { kind: 'event', event: input.event, capabilities: input.capabilities };
    if ('drop' in value) {
      const plugin = this.table.name(chain[value.at] ?? -1);
      this.countDrop(plugin, value.drop);
      return { kind: 'dropped', plugin, reason: value.drop };
    }
    return { kind: 'event', event: value.event ?? input.event, capabilities: value.capabilities };
  }

  /**
   * Run the outbound chain of `action.op`. Never rejects; an empty chain ⇒ no pool round trip. An
   * action of a plugin-defined op is the agent's as {@link validateAction} passed it: the op's
   * schema runs in the pool first, in the same task (`invalid` when it fails; a schema that throws
   * or outlives its plugin's `timeoutMs` is that plugin's failure).
   */
  async runOutbound(action: Action, tags: { platform?: string; botId?: string }): Promise<OutboundOutcome> {
    const validate = this.table.pluginOp(action.op) !== undefined;
    const chain = validate ? this.table.validatedChain(action.op) : this.table.outboundChain(action.op);
    if (chain.length === 0) return { kind: 'ok', action, ...tags };
    const input = { action, ...tags };
    const task: ChainTask = validate
      ? { k: 'outbound', chain, input, validate: true }
      : { k: 'outbound', chain, input };
    const reply = await this.runner.run(task, 'outbound');
    if (!reply.ok)
      return { kind: 'failed', plugin: this.table.name(chain[reply.at] ?? -1), error: reply.error };
    const value = reply.value as OutboundValue;
    if ('invalid' in value) return { kind: 'invalid', status: 400, code: 'invalid_action', ...value.invalid };
    if ('reject' in value) {
      return { kind: 'rejected', plugin: this.table.name(chain[value.at] ?? -1), rejection: value.reject };
    }
    const { amendedAt, ...result } = value;
    if (amendedAt === undefined || !CORE_OPS.includes(action.op)) return { kind: 'ok', ...result };
    return this.checkAmended(result, this.table.name(chain[amendedAt] ?? -1));
  }

  /**
   * A core action a hook replaced must still pass its op's schema (spec/plugins.md: a hook that
   * returns garbage fails its task): unchecked, a hook that dropped `chat_id` or set `content`
   * to a number had it sent to the connector as the agent's action, and the agent got whatever
   * the connector made of it. The parsed action (defaults filled) is what is sent. A
   * plugin-defined op is checked in the pool, its schema being plugin code (hook-chain.ts,
   * `amendedOpProblem`), and only when that schema accepts its own output.
   */
  private checkAmended(
    result: { action: Action; platform?: string; botId?: string },
    plugin: string,
  ): OutboundOutcome {
    // a core op: the core's schema, on this thread
    const check = validateAction(result.action, this.table);
    if (check.ok) return { kind: 'ok', ...result, action: check.action };
    const code = 'CORE_ERR_PLUGIN_BAD_RESULT';
    const message = `hook returned a bad result: action: ${check.message}`.slice(0, 500);
    const fields = { plugin, hook: 'outbound', reason: message };
    reportError(this.log, this.metrics, code, 'plugin task failed', fields, 'error');
    this.metrics.pluginFailures.inc({ plugin, code });
    return { kind: 'failed', plugin, error: { code, message } };
  }

  /**
   * Validate an agent's action on this thread: a core op by the core schema; a plugin-defined op
   * only as one an enabled plugin defines (its schema runs in the pool, in {@link runOutbound}).
   */
  validateAction(raw: unknown): ActionValidation {
    return validateAction(raw, this.table);
  }

  /** Ops accepted by {@link validateAction}: core ops and those of enabled plugins. */
  knownOps(): string[] {
    return this.table.knownOps();
  }

  /** Pool counters for `/v1/status`. */
  stats(): PoolStats {
    return this.pool.stats();
  }

  /** The main thread's view of the shared store (the same rows the workers see). */
  store(): KvStore {
    return this.kv;
  }

  /** Stop the sweep, close the pool (bounded) and the store connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.upkeep.close();
      const closed = this.pool.close();
      // chains still waiting for this turn's flush fail fast with CORE_ERR_PLUGIN_POOL_CLOSED
      this.runner.flush();
      await closed;
      this.db.close();
    })();
    return this.closing;
  }

  private rejected(plugin: string, reason: string, benign?: boolean): ConvertOutcome {
    this.countDrop(plugin, reason);
    if (benign) return { kind: 'rejected', plugin, reason, benign };
    // the plugin's final verdict on its input: the frame is dead-lettered under this code
    const fields = { plugin, reason: reason.slice(0, 200) };
    reportError(this.log, this.metrics, 'CORE_ERR_PLUGIN_REJECTED', 'forward rejected by its plugin', fields);
    return { kind: 'rejected', plugin, reason };
  }

  /** Count a drop or rejection under the reason's stable prefix (`malformed: …` ⇒ `malformed`). */
  private countDrop(plugin: string, reason: string): void {
    const prefix = reason.split(':')[0] || 'dropped';
    this.metrics.pluginDropped.inc({ plugin, reason: this.metrics.dropReasons.of(prefix) });
  }
}
