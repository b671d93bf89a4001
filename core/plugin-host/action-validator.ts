/**
 * Validation of an agent's action (agent-api.md, "Actions") on the main thread: core ops by
 * `CoreActionSchema`, plugin-defined ops by the schema of the enabled plugin that defines them.
 * Pure and synchronous: it never touches the pool.
 */
import type { z } from 'zod';
import type { ErrorData } from '../errors.js';
import { type Action, CORE_OPS, CoreActionSchema } from '../protocol/actions.js';
import { summariseIssues } from './hook-results.js';
import { schemaThrew } from './plugin-options.js';
import type { PluginTable } from './plugin-table.js';

/** The verdict on one action; failures carry the HTTP status and API code of the agent API. */
export type ActionValidation =
  | { ok: true; action: Action }
  | { ok: false; status: number; code: string; message: string; issues?: unknown[] }
  | PluginSchemaFailure;

/**
 * The defining plugin's op schema threw instead of reporting issues (a transform that throws, an
 * async refinement): that plugin's defect, answered 502 `plugin_failed` like a failing hook.
 */
export interface PluginSchemaFailure {
  ok: false;
  status: 502;
  code: 'plugin_failed';
  message: string;
  plugin: string;
  error: ErrorData;
  issues?: never;
}

/** Validate `raw`. Unknown op (or an op of a disabled plugin) ⇒ 422 `unsupported_op`; invalid ⇒ 400. */
export function validateAction(raw: unknown, table: PluginTable): ActionValidation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return invalid('an action must be a JSON object', [{ path: [], message: 'expected an object' }]);
  }
  const op = (raw as { op?: unknown }).op;
  if (typeof op !== 'string' || op === '') {
    return invalid('an action needs a string op', [{ path: ['op'], message: 'expected a non-empty string' }]);
  }
  if (CORE_OPS.includes(op)) return fromParse(CoreActionSchema.safeParse(raw));
  const owned = table.pluginOp(op);
  if (!owned) {
    return {
      ok: false,
      status: 422,
      code: 'unsupported_op',
      message: `op "${op.slice(0, 64)}" is not supported`,
    };
  }
  let parsed: z.ZodSafeParseResult<unknown>;
  try {
    parsed = owned.schema.safeParse(raw);
  } catch (err) {
    const plugin = table.name(owned.index);
    return {
      ok: false,
      status: 502,
      code: 'plugin_failed',
      message: `plugin ${plugin} failed (CORE_ERR_PLUGIN_THREW)`,
      plugin,
      error: { code: 'CORE_ERR_PLUGIN_THREW', message: `op schema threw: ${schemaThrew(err)}` },
    };
  }
  if (parsed.success && !isAction(parsed.data, op)) {
    // a plugin schema that strips or rewrites `op` would route the action wrongly
    return invalid(`the schema of op "${op}" must keep the op field`, [
      { path: ['op'], message: 'lost by the op schema' },
    ]);
  }
  return fromParse(parsed as z.ZodSafeParseResult<Action>);
}

function fromParse(parsed: z.ZodSafeParseResult<unknown>): ActionValidation {
  if (parsed.success) return { ok: true, action: parsed.data as Action };
  return invalid(`invalid action: ${summariseIssues(parsed.error)}`, parsed.error.issues as unknown[]);
}

function invalid(message: string, issues: unknown[]): ActionValidation {
  return { ok: false, status: 400, code: 'invalid_action', message, issues };
}

function isAction(value: unknown, op: string): value is Action {
  return typeof value === 'object' && value !== null && (value as { op?: unknown }).op === op;
}
