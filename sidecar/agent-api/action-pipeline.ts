/**
 * The action pipeline: one raw action from the agent (POST /v1/actions, or an action in a push
 * delivery's response) to one HTTP-style outcome. Order (agent-api.md, "Order of a message"):
 *
 *   validate (core ops; plugin ops: defined?) → get_chat_info answered at once → revoked? →
 *   outbound plugin task (a plugin op's schema, then scope re-attach, follow_up checks) → op
 *   gating on the chosen platform → client.send
 *
 * Every step answers a value; the pipeline never rejects, so push delivery can run it blindly.
 */
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { Action } from '../../core/protocol/actions.js';
import type { ApiPluginHost, ApiRelayClient, OutboundTags } from './deps.js';
import { apiError, errorReply } from './errors.js';

/** The outcome of one action: the HTTP status and JSON body to answer with. */
export interface ActionOutcome {
  readonly status: number;
  readonly body: unknown;
}

/** Run one raw action through the pipeline. Never rejects. */
export type ActionExecutor = (raw: unknown) => Promise<ActionOutcome>;

/** What the pipeline needs. */
export interface ActionPipelineDeps {
  readonly client: ApiRelayClient;
  readonly plugins: ApiPluginHost;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Most actions in flight at once (`api.maxInFlightActions`); more ⇒ 503 busy. */
  readonly maxInFlight: number;
}

/** The pipeline and its in-flight gauge. */
export interface ActionPipeline {
  readonly executeAction: ActionExecutor;
  /** Actions currently in flight. */
  inFlight(): number;
}

/** Build the pipeline. The in-flight bound is shared by every caller (HTTP and push delivery). */
export function createActionPipeline(deps: ActionPipelineDeps): ActionPipeline {
  let inFlight = 0;
  const executeAction: ActionExecutor = async (raw) => {
    if (inFlight >= deps.maxInFlight) {
      return apiError('busy', `${deps.maxInFlight} actions already in flight; retry later`, {
        headers: { 'retry-after': '1' },
      });
    }
    inFlight++;
    try {
      return await runPipeline(deps, raw);
    } catch (err) {
      // a dependency broke its never-rejects promise: answer 500, keep serving
      reportError(deps.log, deps.metrics, 'CORE_ERR_API_HANDLER_FAILED', 'action pipeline failed', {
        error: (err as Error)?.message,
      });
      return apiError('internal_error', 'the action could not be processed');
    } finally {
      inFlight--;
    }
  };
  return { executeAction, inFlight: () => inFlight };
}

async function runPipeline(deps: ActionPipelineDeps, raw: unknown): Promise<ActionOutcome> {
  const { client, plugins, log, metrics } = deps;
  const validation = plugins.validateAction(raw);
  if (!validation.ok) return refused(deps, validation);
  const action = validation.action;

  if (action.op === 'get_chat_info') {
    // never gated: the client asks the connector when advertised and answers locally otherwise
    const info = await client.getChatInfo(String(action.chat_id));
    return { status: 200, body: { result: info } };
  }
  if (client.state === 'revoked') {
    return apiError('relay_revoked', 'relay credentials were revoked; the sidecar no longer connects');
  }

  // a plugin-defined op's schema runs here, in the pool: so when revoked, such an action is
  // answered relay_revoked unchecked (docs/decisions.md, "Plugin isolation")
  const verdict = await plugins.runOutbound(action, {});
  if (verdict.kind === 'invalid') return refused(deps, verdict);
  if (verdict.kind === 'rejected') {
    const { code, message, status } = verdict.rejection;
    // the agent gets the answer: counted, logged at debug like any request the API refuses
    const fields = { op: action.op, plugin: verdict.plugin, apiCode: code };
    reportError(log, metrics, 'CORE_ERR_PLUGIN_REJECTED', 'action rejected by plugin', fields, 'debug');
    return errorReply(validStatus(status), code, message, { plugin: verdict.plugin });
  }
  if (verdict.kind === 'failed' && verdict.error.code === 'CORE_ERR_PLUGIN_POOL_SATURATED') {
    // load, not a plugin bug: tell the agent to retry (docs/benchmarks.md, F5)
    return apiError('busy', 'the plugin worker pool is saturated; retry later', {
      headers: { 'retry-after': '1' },
    });
  }
  if (verdict.kind === 'failed') {
    // the plugin host already logged and counted the failure; the agent gets the code, not the text
    return errorReply(502, 'plugin_failed', `plugin ${verdict.plugin} failed (${verdict.error.code})`, {
      plugin: verdict.plugin,
    });
  }

  const tags = tagsOf(verdict);
  const gated = gate(client, verdict.action, tags.platform);
  if (gated) {
    reportError(
      log,
      metrics,
      'CORE_ERR_OUTBOUND_UNSUPPORTED_OP',
      'action op not advertised',
      {
        op: verdict.action.op,
        platform: tags.platform,
      },
      'debug',
    );
    return gated;
  }
  const result = await client.send(verdict.action, tags);
  return { status: 200, body: { result } };
}

/** The answer to an action its schema refused (400) or whose op nobody defines (422). */
function refused(
  { log, metrics }: ActionPipelineDeps,
  refusal: { status: number; code: string; message: string; issues?: readonly unknown[] },
): ActionOutcome {
  const code =
    refusal.status === 422 ? 'CORE_ERR_OUTBOUND_UNSUPPORTED_OP' : 'CORE_ERR_OUTBOUND_INVALID_ACTION';
  reportError(log, metrics, code, 'action refused by validation', { apiCode: refusal.code }, 'debug');
  return errorReply(refusal.status, refusal.code, refusal.message, {
    ...(refusal.issues ? { issues: refusal.issues } : {}),
  });
}

/**
 * Op gating against the descriptor of the chosen platform. With no descriptor known yet (never
 * connected) nothing is gated: `send` answers the synthesised "not connected" result instead.
 */
function gate(
  client: ApiRelayClient,
  action: Action,
  platform: string | undefined,
): ActionOutcome | undefined {
  if (client.descriptors().size === 0 || client.opAllowed(action.op, platform)) return undefined;
  const target = platform ? `the ${platform}` : 'the default';
  return apiError('unsupported_op', `op ${action.op} is not advertised by ${target} descriptor`);
}

/** Frame tags without undefined members. */
function tagsOf(verdict: { platform?: string; botId?: string }): OutboundTags {
  return {
    ...(verdict.platform !== undefined ? { platform: verdict.platform } : {}),
    ...(verdict.botId !== undefined ? { botId: verdict.botId } : {}),
  };
}

/** A plugin's status when it is an HTTP client-error or server-error status, else 400. */
function validStatus(status: number | undefined): number {
  return status !== undefined && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 400;
}
