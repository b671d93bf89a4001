/**
 * Parsing a plugin's manifest `options` with the plugin's own schema. Shared by the main thread
 * (start-up check, `CORE_ERR_PLUGIN_OPTIONS_INVALID`) and the workers (the value hooks receive),
 * so both sides always agree on the parsed options.
 */
import type { z } from 'zod';
import { deepFreeze } from '../config/deep-freeze.js';
import { issueMessage } from '../config/issue-message.js';
import type { PluginDefinition } from './define-plugin.js';
import { summariseIssues } from './hook-results.js';

/** The parsed options, or why they are invalid (paths and messages, never values). */
export type OptionsParse = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * Parse `raw` with `definition.options`; a plugin without a schema accepts only `{}`. The value is
 * deeply frozen: it is configuration, shared by every call in a worker, so a hook that pushed into
 * it would change what later calls see (and grow it on every event) — now the push throws, and
 * the call fails as the hook having thrown.
 */
export function parsePluginOptions(definition: PluginDefinition, raw: unknown): OptionsParse {
  if (!definition.options) {
    const empty = raw === undefined || (isRecord(raw) && Object.keys(raw).length === 0);
    return empty
      ? { ok: true, value: Object.freeze({}) }
      : { ok: false, problem: 'the plugin declares no options schema, so options must be {}' };
  }
  let parsed: ReturnType<NonNullable<PluginDefinition['options']>['safeParse']>;
  try {
    parsed = definition.options.safeParse(raw ?? {});
  } catch (err) {
    // a transform that throws, or an async refinement (zod cannot parse it synchronously)
    return {
      ok: false,
      problem: `the options schema threw instead of reporting issues: ${schemaThrew(err)}`,
    };
  }
  return parsed.success
    ? { ok: true, value: deepFreeze(parsed.data) }
    : { ok: false, problem: optionsProblem(definition.options, parsed.error, raw ?? {}) };
}

/**
 * At most three issues in the words config keys use (core/config/issue-message.ts): what the
 * option takes, in its unit, the option meant for a misspelt one; a union's failure told by its
 * closest form, at that form's path (zod says only "Invalid input" at the union); zod's own
 * wording where the schema cannot be walked. Names only, never values.
 */
function optionsProblem(schema: z.ZodType, error: z.ZodError, raw: unknown): string {
  return summariseIssues(error, 3, undefined, (issue) => reworded(issue, schema, raw));
}

/** {@link issueMessage}, or zod's message when the plugin's schema cannot be walked. */
function reworded(issue: z.core.$ZodIssue, schema: z.ZodType, raw: unknown): string {
  try {
    return issueMessage(issue, schema, raw);
  } catch {
    // a plugin's schema with a getter that throws: zod's message still says what
    return issue.message;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A schema's throw in one line (the message only: it may quote the value being parsed). */
export function schemaThrew(err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err;
  return (message.split('\n')[0] ?? '').slice(0, 200);
}
