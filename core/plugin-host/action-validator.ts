/**
 * Validation of an agent's action (agent-api.md, "Actions") on the main thread: core ops by
 * `CoreActionSchema` (core code). A plugin-defined op is only checked to be one an enabled plugin
 * defines: its schema is plugin code, so it runs in the pool, as the first step of the action's
 * outbound task (op-schema.ts, `PluginHost.runOutbound`). Pure and synchronous.
 */
import type { z } from 'zod';
import { type Action, CORE_OPS, CoreActionSchema } from '../protocol/actions.js';
import { summariseIssues } from './hook-results.js';
import type { PluginTable } from './plugin-table.js';

/** The verdict on one action; failures carry the HTTP status and API code of the agent API. */
export type ActionValidation =
  | { ok: true; action: Action }
  | { ok: false; status: number; code: string; message: string; issues?: unknown[] };

/** Why an action is invalid: a one-line summary and the zod issues, for a 400 `invalid_action`. */
export interface InvalidAction {
  readonly message: string;
  readonly issues: unknown[];
}

/**
 * Validate `raw`. Unknown op (or an op of a disabled plugin) ⇒ 422 `unsupported_op`; an invalid
 * core action ⇒ 400. A plugin-defined op passes as it is, its schema still to run in the pool.
 */
export function validateAction(raw: unknown, table: PluginTable): ActionValidation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return invalid('an action must be a JSON object', [{ path: [], message: 'expected an object' }]);
  }
  const op = (raw as { op?: unknown }).op;
  if (typeof op !== 'string' || op === '') {
    return invalid('an action needs a string op', [{ path: ['op'], message: 'expected a non-empty string' }]);
  }
  if (CORE_OPS.includes(op)) {
    const parsed = CoreActionSchema.safeParse(raw);
    return parsed.success ? { ok: true, action: parsed.data } : { ok: false, ...invalidParse(parsed.error) };
  }
  if (table.pluginOp(op) === undefined) {
    return {
      ok: false,
      status: 422,
      code: 'unsupported_op',
      message: `op "${op.slice(0, 64)}" is not supported`,
    };
  }
  return { ok: true, action: raw as Action };
}

/** The 400 answer to an action that failed its schema (core or plugin). */
export function invalidParse(error: z.ZodError): InvalidAction & { status: 400; code: 'invalid_action' } {
  return {
    status: 400,
    code: 'invalid_action',
    message: `invalid action: ${summariseIssues(error)}`,
    issues: error.issues as unknown[],
  };
}

function invalid(message: string, issues: unknown[]): ActionValidation {
  return { ok: false, status: 400, code: 'invalid_action', message, issues };
}
