/**
 * Check a produced event against a shared fixture's `expect` (a subset of MessageEvent fields,
 * plus the special keys documented in the fixture files). Returns a list of mismatches; empty
 * means the sample passes.
 */
import { sessionKey } from '../../core/index.js';

/** A sample of `discord-interactions.json` / `twilio-webhooks.json`. */
export interface ForwardSample {
  readonly name: string;
  readonly forward: Record<string, unknown>;
  readonly expect: Record<string, unknown> | null;
}

/** A fixture file of forward samples. */
export interface ForwardFixture {
  readonly samples: readonly ForwardSample[];
}

/** One produced event with its capabilities. */
export interface Produced {
  readonly event: Record<string, unknown>;
  readonly capabilities: readonly string[];
}

/** Where a secret must never show up besides the event: log output and store content. */
export interface Observed {
  readonly logs: string;
  readonly store: string;
}

/** Subset match: every key of `expected` matches in `actual`; arrays match element-wise, same length. */
export function subsetMismatches(expected: unknown, actual: unknown, path: string): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
    }
    return expected.flatMap((e, i) => subsetMismatches(e, actual[i], `${path}[${i}]`));
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object')
      return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) =>
      subsetMismatches(v, (actual as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return Object.is(expected, actual)
    ? []
    : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/** True when `key` is a property name anywhere in `value`. */
function hasKeyAnywhere(value: unknown, key: string): boolean {
  if (!value || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasKeyAnywhere(v, key));
  return Object.entries(value).some(([k, v]) => k === key || hasKeyAnywhere(v, key));
}

/** Mismatches of `produced` against `expect` (null ⇒ no event). */
export function expectMismatches(
  expect: Record<string, unknown> | null,
  produced: readonly Produced[],
  observed: Observed,
): string[] {
  if (expect === null) return produced.length === 0 ? [] : [`expected no event, got ${produced.length}`];
  if (produced.length !== 1) return [`expected exactly one event, got ${produced.length}`];
  const { event, capabilities } = produced[0] as Produced;
  const source = (event.source ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const [key, want] of Object.entries(expect)) {
    switch (key) {
      case 'capabilities':
        problems.push(...subsetMismatches(want, capabilities, 'capabilities'));
        break;
      case 'no_field_anywhere':
        if (hasKeyAnywhere(event, want as string))
          problems.push(`field ${String(want)} present in the event`);
        break;
      case 'secret_value_never_seen':
        for (const [where, text] of [
          ['event', JSON.stringify(event)],
          ['logs', observed.logs],
          ['store', observed.store],
        ]) {
          if ((text as string).includes(want as string)) problems.push(`secret seen in ${where}`);
        }
        break;
      case 'media_urls_count':
        problems.push(...subsetMismatches(want, (event.media_urls as unknown[] | undefined)?.length, key));
        break;
      case 'media_mimes':
        problems.push(
          ...subsetMismatches(
            want,
            ((event.media ?? []) as { mime?: unknown }[]).map((m) => m.mime),
            key,
          ),
        );
        break;
      case 'message_id_or_source_message_id':
        if (event.message_id !== want && source.message_id !== want)
          problems.push(`${key}: neither is ${String(want)}`);
        break;
      case 'session_key':
        problems.push(...subsetMismatches(want, sessionKey(source as { platform: string }), key));
        break;
      default:
        problems.push(...subsetMismatches(want, event[key], key));
    }
  }
  return problems;
}
