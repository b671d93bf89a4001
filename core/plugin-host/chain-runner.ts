/**
 * Runs chains through the batcher and the pool, and reports each reply on the main thread: hook
 * log calls through pino with the plugin name, hook durations, and a failure logged once with its
 * stable code and the plugin that was running, and counted.
 */
import { isErrorCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PluginPool } from '../pool/plugin-pool.js';
import { type BatcherThreads, TaskBatcher } from '../pool/task-batcher.js';
import type { ChainTask, HookKind, HookLabel, TaskReply } from '../pool/task-protocol.js';
import { SecretMatcher } from '../secret-matcher.js';
import type { PluginTable } from './plugin-table.js';
import { redactFailure, redactLogEntry, redactPluginText, taskSecrets } from './task-secrets.js';

/** The host's path to the pool. */
export class ChainRunner {
  private readonly batcher: TaskBatcher;
  private readonly log: Logger;
  private readonly pluginLog: Logger;

  constructor(
    pool: PluginPool,
    private readonly table: PluginTable,
    log: Logger,
    private readonly metrics: Metrics,
    threads: BatcherThreads,
  ) {
    this.batcher = new TaskBatcher(pool, threads);
    this.log = log.child({ component: 'plugin-host' });
    this.pluginLog = log.child({ component: 'plugin' });
  }

  /** Run one chain (batched with the others of this turn) and report its reply. Never rejects. */
  async run(
    task: ChainTask,
    hook: HookKind,
    budgets: readonly number[] = this.table.budgetsOf(task.chain),
  ): Promise<TaskReply> {
    const options = () => task.chain.map((index) => this.table.plugins[index]?.entry.options);
    const reply = withoutSecrets(task, this.shipped(await this.batcher.submit({ task, budgets })), options);
    const nameAt = (position: number) => this.table.name(task.chain[position] ?? -1);
    // position 0 of a validating outbound task ran the op's schema, not a hook
    const hookAt = (position: number): HookLabel =>
      position === 0 && task.k === 'outbound' && task.validate ? 'validate' : hook;
    for (const [position, level, msg, fields] of reply.logs ?? []) {
      // `plugin` last: a hook cannot pass its log line off as another plugin's
      this.pluginLog[level]({ ...fields, plugin: nameAt(position), hook: hookAt(position) }, msg);
    }
    if (reply.ok) {
      for (const [position, ms] of reply.ms.entries()) {
        this.metrics.pluginTaskDuration.observe(
          { plugin: nameAt(position), hook: hookAt(position) },
          ms / 1_000,
        );
      }
      return reply;
    }
    const plugin = nameAt(reply.at);
    const code = isErrorCode(reply.error.code) ? reply.error.code : 'CORE_ERR_PLUGIN_THREW';
    const fields = { plugin, hook: hookAt(reply.at), reason: reply.error.message };
    if (code === 'CORE_ERR_PLUGIN_WORKER_BOOT_FAILED' || code === 'CORE_ERR_PLUGIN_WORKER_START_FAILED') {
      // no hook ran: the pool logs the worker's death (worker-deaths.ts) or failed start
      // (worker-starts.ts) at a bounded rate, and a line per event, or a failure counted against
      // position 0's plugin, would blame an innocent
      reportError(this.log, this.metrics, code, 'plugin task failed', { reason: fields.reason }, 'debug');
      return reply;
    }
    // a full or closing pool is load or shutdown, not a plugin defect
    const level =
      code === 'CORE_ERR_PLUGIN_POOL_SATURATED' || code === 'CORE_ERR_PLUGIN_POOL_CLOSED' ? 'warn' : 'error';
    reportError(this.log, this.metrics, code, 'plugin task failed', fields, level);
    this.metrics.pluginFailures.inc({ plugin, code });
    return reply;
  }

  /**
   * `reply` without the log calls below the plugin logger's level: dropped by pino anyway, they
   * made the credential search run for nothing (twilio's debug line on every status callback:
   * ~55 µs of the main thread per event at the default `info`, measured in-process).
   */
  private shipped(reply: TaskReply): TaskReply {
    if (reply.logs === undefined) return reply;
    const logs = reply.logs.filter(([, level]) => this.pluginLog.isLevelEnabled(level));
    if (logs.length === reply.logs.length) return reply;
    if (logs.length > 0) return { ...reply, logs };
    const { logs: _dropped, ...rest } = reply;
    return rest as TaskReply;
  }

  /** Send the chains waiting for this turn now (used at close, so they fail fast). */
  flush(): void {
    this.batcher.flush();
  }
}

/** The words a chain's value may hold: a converter's reason, a drop's, a rejection's message. */
type Words = { reason?: unknown; drop?: unknown; reject?: { message?: unknown } };

/**
 * `reply` with the credentials its task handed the plugins, and those of its plugins' options,
 * taken out of every word a plugin wrote (task-secrets.ts): the failure's message, a converter's
 * or a drop's reason, a rejection's message (the agent reads it), the log calls. The values are
 * searched only when there are such words (a plain success has none).
 */
function withoutSecrets(task: ChainTask, reply: TaskReply, options: () => unknown[]): TaskReply {
  const value = reply.ok ? (reply.value as Words | undefined) : undefined;
  const said =
    typeof value?.reason === 'string' ||
    typeof value?.drop === 'string' ||
    typeof value?.reject?.message === 'string';
  if (reply.ok && !said && reply.logs === undefined) return reply;
  // indexed once: a reply may hold fifty log calls, each with fields
  const secrets = new SecretMatcher(taskSecrets(task, options()));
  const logs = reply.logs?.map((entry) => redactLogEntry(entry, secrets));
  const withLogs = logs ? { ...reply, logs } : reply;
  if (!withLogs.ok) {
    const error = { ...withLogs.error, message: redactFailure(withLogs.error.message, secrets) };
    return { ...withLogs, error };
  }
  return value && said ? { ...withLogs, value: redactWords(value, secrets) } : withLogs;
}

function redactWords(value: Words, secrets: SecretMatcher): Words {
  const redact = (text: unknown) => (typeof text === 'string' ? redactPluginText(text, secrets) : text);
  if (value.reject) return { ...value, reject: { ...value.reject, message: redact(value.reject.message) } };
  if (typeof value.drop === 'string') return { ...value, drop: redact(value.drop) };
  return { ...value, reason: redact(value.reason) };
}
