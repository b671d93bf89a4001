/**
 * The environment plugin code runs with (the pool's workers, the start-up check's thread): the
 * sidecar's own, less its credentials. A worker thread gets a copy of `process.env` by default, so
 * any plugin — or a library it uses that prints its environment or config on failure — could read
 * the relay secret or the API token and put it in a message the host cannot know to redact (it
 * redacts what a task hands a plugin: task-secrets.ts). No plugin needs them: the relay and the
 * agent API are the core's. A plugin's own variables stay.
 */
import { ENV_BINDINGS } from '../config/env-map.js';

/**
 * What plugin code never sees: every variable the config marks secret, and the two URLs that may
 * carry credentials (`AGENT_URL`'s user:password, a connector URL's query).
 */
export const HIDDEN_FROM_PLUGINS: readonly string[] = [
  ...ENV_BINDINGS.filter((b) => b.secret).map((b) => b.env),
  'AGENT_URL',
  'GATEWAY_RELAY_URL',
];

/** `env` without {@link HIDDEN_FROM_PLUGINS}: the `env` option of a plugin thread. */
export function pluginEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of HIDDEN_FROM_PLUGINS) delete out[name];
  return out;
}
