/**
 * Environment variables that look like the sidecar's but are none of them: a misspelt name
 * (`SIDECAR_DATADIR`, `GATEWAY_RELAY_SECERT`) is otherwise silently ignored and its default used,
 * which an operator finds out only from behaviour (a data dir in the working directory, an
 * unauthenticated dial).
 */
import { closestName } from './closest-name.js';
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
