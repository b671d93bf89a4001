/**
 * Environment variables that look like the sidecar's but are none of them: a misspelt name
 * (`SIDECAR_DATADIR`, `GATEWAY_RELAY_SECERT`) is otherwise silently ignored and its default used,
 * which an operator finds out only from behaviour (a data dir in the working directory, an
 * unauthenticated dial).
 */
import { ENV_BINDINGS, IDENTITY_ENV } from './env-map.js';

/** Every variable the sidecar reads. */
export const KNOWN_ENV: readonly string[] = [
  ...ENV_BINDINGS.map((b) => b.env),
  ...IDENTITY_ENV,
  'SIDECAR_CONFIG',
];

/**
 * Prefixes that mark a variable as meant for the sidecar. `AGENT_` is left out: the agent beside
 * it may well read `AGENT_*` variables of its own from the same environment.
 */
const PREFIXES = ['SIDECAR_', 'GATEWAY_'] as const;

/** One unknown variable and the known name closest to it, when one is close. */
export interface UnknownEnv {
  readonly name: string;
  readonly suggestion?: string;
}

/** The set variables with a sidecar prefix that the sidecar does not read, sorted by name. */
export function unknownEnv(env: NodeJS.ProcessEnv): UnknownEnv[] {
  const out: UnknownEnv[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!PREFIXES.some((p) => name.startsWith(p)) || KNOWN_ENV.includes(name)) continue;
    const suggestion = closestName(name, KNOWN_ENV);
    out.push(suggestion === undefined ? { name } : { name, suggestion });
  }
  return out;
}

/** The warning line for one unknown variable (names only: never its value). */
export function unknownEnvWarning(u: UnknownEnv): string {
  const hint = u.suggestion
    ? `did you mean ${u.suggestion}?`
    : 'not a relay-sidecar variable (docs/config.md lists them)';
  return `${u.name} is set but not read: ${hint}`;
}

/**
 * The name of `known` within a few edits of `name` (a typo: `SIDECAR_DATADIR`, `pingIntervalMS`),
 * if any; the first of equally close ones.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    // case is not an edit: `pingIntervalMS` is one slip, not two
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // a slip or two in a long name, one in a short one: more is another word (`bogus` is not `log`)
  const allowed = Math.max(1, Math.min(3, Math.floor(name.length / 4)));
  return bestDistance <= allowed ? best : undefined;
}

/**
 * Edit distance counting two neighbours swapped as one edit (optimal string alignment: `agnet` is
 * one slip from `agent`, where Levenshtein counts two). Names are short: the quadratic table is a
 * few hundred cells.
 */
function distance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}
