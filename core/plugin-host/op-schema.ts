/**
 * A plugin-defined op's schema run on an agent's action, in a pool worker (the first step of the
 * action's outbound task, hook-chain.ts): the schema is plugin code, so a refinement that loops
 * is ended by its plugin's `timeoutMs` like a hook, never on the thread that reads the socket.
 * What comes back crosses the thread boundary, so it is reduced to plain data here.
 */
import type { z } from 'zod';
import { RelayError } from '../errors.js';
import type { Action } from '../protocol/actions.js';
import { type InvalidAction, invalidParse } from './action-validator.js';
import { summariseIssues, toPlainData } from './hook-results.js';

/** The parsed action (defaults filled, as the schema returns it), or why it is invalid. */
export type OpSchemaVerdict = { readonly action: Action } | { readonly invalid: InvalidAction };

/**
 * The verdict on `parsed`, the op schema's result for an action of op `op`. Throws
 * `CORE_ERR_PLUGIN_BAD_RESULT` when the schema produced what no frame can carry (a function, a
 * class instance): the plugin's defect, answered 502 like a hook's bad result.
 */
export function opSchemaVerdict(parsed: z.ZodSafeParseResult<unknown>, op: string): OpSchemaVerdict {
  if (!parsed.success) {
    const { message, issues } = invalidParse(parsed.error);
    return { invalid: { message, issues: plainIssues(issues) } };
  }
  let action: unknown;
  try {
    action = toPlainData(parsed.data);
  } catch (err) {
    const problem = err instanceof Error ? err.message : typeof err;
    throw new RelayError('CORE_ERR_PLUGIN_BAD_RESULT', `op schema returned a bad result: ${problem}`);
  }
  if (typeof action !== 'object' || action === null || (action as { op?: unknown }).op !== op) {
    // a plugin schema that strips or rewrites `op` would route the action wrongly
    return {
      invalid: {
        message: `the schema of op "${op}" must keep the op field`,
        issues: [{ path: ['op'], message: 'lost by the op schema' }],
      },
    };
  }
  return { action: action as Action };
}

/**
 * Why the action of op `op` that an outbound hook amended fails that op's schema, or undefined.
 * `validated` is the schema's own result on the agent's action: a schema that refuses it maps the
 * agent's input to another shape (plugins.md §4.4), so what hooks make of it cannot be checked
 * and is left as it is. Names fields, never values: the reason reaches the log and the agent.
 */
export function amendedOpProblem(
  schema: z.ZodType,
  op: string,
  validated: Action,
  amended: Action,
): string | undefined {
  // copies: a transform that changes its input in place must not change what is sent (a function
  // put there would fail the reply's trip across the thread boundary, and its batch with it).
  // The common case costs one parse; the schema's own result is parsed only when this one fails
  const parsed = schema.safeParse(structuredClone(amended));
  if (parsed.success || !schema.safeParse(structuredClone(validated)).success) return undefined;
  // the issues name fields (`action: Unrecognized key: "metadata"`), as for a core op's re-check
  return `${summariseIssues(parsed.error, 3, 'action')}: the schema of op "${op}" refuses what the hook made of it (an op addressing a chat gets metadata from scope-reattacher: give its schema \`metadata: z.record(z.string(), z.unknown()).optional()\`)`;
}

/**
 * zod's issues as the agent will read them (JSON), so they cross the thread boundary: a custom
 * issue may carry anything in its params (a symbol in a path, a Map); then only each issue's
 * code, path and message are kept.
 */
function plainIssues(issues: unknown[]): unknown[] {
  try {
    return JSON.parse(JSON.stringify(issues)) as unknown[];
  } catch {
    return issues.map((issue) => {
      const { code, path, message } = issue as { code?: unknown; path?: unknown; message?: unknown };
      return {
        code: String(code),
        path: Array.isArray(path) ? path.map((p) => (typeof p === 'number' ? p : String(p))) : [],
        message: String(message),
      };
    });
  }
}
