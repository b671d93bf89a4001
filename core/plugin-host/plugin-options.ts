/**
 * Parsing a plugin's manifest `options` with the plugin's own schema. Shared by the main thread
 * (start-up check, `CORE_ERR_PLUGIN_OPTIONS_INVALID`) and the workers (the value hooks receive),
 * so both sides always agree on the parsed options.
 */
import { deepFreeze } from '../config/deep-freeze.js';
import { closestName } from '../config/unknown-env.js';
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
    : { ok: false, problem: `${summariseIssues(parsed.error)}${meant(definition.options, parsed.error)}` };
}

/**
 * For a misspelt top-level option (`sufix`), the option meant, as config keys name theirs: the
 * schema's own keys when it is an object schema. Names only, never values.
 */
function meant(schema: unknown, error: { issues: readonly unknown[] }): string {
  let known: string[];
  try {
    const shape = (schema as { shape?: unknown }).shape;
    if (!isRecord(shape)) return '';
    known = Object.keys(shape);
  } catch {
    // a plugin's schema with a getter that throws: no suggestion, the issue still says what
    return '';
  }
  const pairs: string[] = [];
  for (const issue of error.issues as { code?: unknown; path?: unknown[]; keys?: unknown }[]) {
    if (issue.code !== 'unrecognized_keys' || issue.path?.length !== 0 || !Array.isArray(issue.keys))
      continue;
    for (const key of issue.keys) {
      const near = typeof key === 'string' ? closestName(key, known) : undefined;
      if (near) pairs.push(`"${near}"`);
    }
  }
  return pairs.length === 0 ? '' : `: did you mean ${pairs.slice(0, 5).join(', ')}?`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A schema's throw in one line (the message only: it may quote the value being parsed). */
export function schemaThrew(err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err;
  return (message.split('\n')[0] ?? '').slice(0, 200);
}
