/**
 * The environment variables of `spec/config.md` and where each lands in the nested config.
 * Env wins over the config file. Parsing of list/JSON/boolean variables happens here; the
 * result is validated by the one schema afterwards.
 */
import { RelayError } from '../errors.js';
import { closestName } from './closest-name.js';

/** One env variable: its config path and how its string becomes a value. */
export interface EnvBinding {
  readonly env: string;
  readonly path: readonly string[];
  readonly parse?: (raw: string) => unknown;
  /** True for secrets: never echoed, not even in validation errors. */
  readonly secret?: boolean;
}

const list = (raw: string) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
/** The words a boolean env variable accepts (any case), for on and for off. */
export const ENV_BOOLEAN_WORDS = {
  on: ['1', 'true', 'yes', 'on'],
  off: ['0', 'false', 'no', 'off'],
} as const;

/**
 * A boolean env variable. Any other word is passed on as the string it is, so the schema refuses
 * it naming the key, instead of a typo (`LOG_PRETTY=maybe`) silently meaning off.
 */
const bool = (raw: string): boolean | string => {
  const word = raw.trim().toLowerCase();
  if ((ENV_BOOLEAN_WORDS.on as readonly string[]).includes(word)) return true;
  if ((ENV_BOOLEAN_WORDS.off as readonly string[]).includes(word)) return false;
  return raw;
};

/**
 * A variable's value, or undefined when it is unset, empty or only blanks: a compose file's blank
 * default (`SIDECAR_DATA_DIR=` or `= `) must not override the config file, nor stand for a data
 * dir named ` ` or a gateway id ` `. Any other value is kept exactly as set.
 */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

/** Simple one-to-one bindings. Identities are handled by {@link identitiesFromEnv}. */
export const ENV_BINDINGS: readonly EnvBinding[] = [
  { env: 'GATEWAY_RELAY_URL', path: ['relay', 'url'] },
  { env: 'GATEWAY_RELAY_ID', path: ['relay', 'gatewayId'] },
  { env: 'GATEWAY_RELAY_SECRET', path: ['relay', 'secret'], secret: true },
  { env: 'GATEWAY_RELAY_DELIVERY_KEY', path: ['relay', 'deliveryKey'], secret: true },
  { env: 'GATEWAY_RELAY_IDENTITY_TOKEN', path: ['relay', 'identityToken'], secret: true },
  { env: 'GATEWAY_RELAY_ENROLL_TOKEN', path: ['relay', 'enrollToken'], secret: true },
  { env: 'GATEWAY_RELAY_WAKE_URL', path: ['relay', 'wakeUrl'] },
  { env: 'GATEWAY_RELAY_INSTANCE_ID', path: ['relay', 'instanceId'] },
  { env: 'GATEWAY_RELAY_ENDPOINT', path: ['relay', 'endpoint'] },
  { env: 'GATEWAY_RELAY_ROUTE_KEYS', path: ['relay', 'routeKeys'], parse: list },
  { env: 'AGENT_URL', path: ['agent', 'url'] },
  { env: 'AGENT_MODE', path: ['agent', 'mode'] },
  { env: 'SIDECAR_LISTEN', path: ['api', 'listen'] },
  { env: 'SIDECAR_API_TOKEN', path: ['api', 'token'], secret: true },
  { env: 'SIDECAR_DATA_DIR', path: ['dataDir'] },
  { env: 'SIDECAR_PLUGINS', path: ['pluginsPath'] },
  { env: 'LOG_LEVEL', path: ['log', 'level'] },
  { env: 'LOG_PRETTY', path: ['log', 'pretty'], parse: bool },
];

/** Env names of the identity variables (documented with the others). */
export const IDENTITY_ENV = [
  'GATEWAY_RELAY_PLATFORMS',
  'GATEWAY_RELAY_BOT_IDS',
  'GATEWAY_RELAY_PLATFORM',
  'GATEWAY_RELAY_BOT_ID',
] as const;

/** The env variable behind a config path, for error messages (`relay.secret` → GATEWAY_RELAY_SECRET). */
export function envNameFor(path: readonly (string | number)[]): string | undefined {
  const key = path.join('.');
  if (key.startsWith('relay.identities')) return 'GATEWAY_RELAY_PLATFORMS';
  return ENV_BINDINGS.find((b) => b.path.join('.') === key)?.env;
}

/**
 * Identities from env: `GATEWAY_RELAY_PLATFORMS` (+ `GATEWAY_RELAY_BOT_IDS` JSON map), else the
 * legacy `GATEWAY_RELAY_PLATFORM` + `GATEWAY_RELAY_BOT_ID`. Undefined when none is set.
 * @throws RelayError `CORE_ERR_CONFIG_BOT_IDS_MALFORMED` when `GATEWAY_RELAY_BOT_IDS` is set and
 * malformed, even when `GATEWAY_RELAY_PLATFORMS` is unset and the map would go unused.
 */
export function identitiesFromEnv(env: NodeJS.ProcessEnv): { platform: string; botId: string }[] | undefined {
  // parsed whenever set: a malformed map refuses the start rather than being silently ignored
  const botIds = parseBotIds(envValue(env, 'GATEWAY_RELAY_BOT_IDS'));
  const platforms = envValue(env, 'GATEWAY_RELAY_PLATFORMS');
  if (platforms !== undefined) {
    return list(platforms).map((platform) => ({ platform, botId: botIds[platform] ?? '' }));
  }
  // empty counts as unset, as for every other variable: `GATEWAY_RELAY_PLATFORM=` (a compose
  // file's blank default) replaced the config file's identities with the `relay` placeholder
  const platform = envValue(env, 'GATEWAY_RELAY_PLATFORM')?.trim();
  const botId = envValue(env, 'GATEWAY_RELAY_BOT_ID');
  if (platform !== undefined || botId !== undefined) {
    return [{ platform: platform ?? 'relay', botId: botId ?? '' }];
  }
  return undefined;
}

/** A `GATEWAY_RELAY_BOT_IDS` entry named like a listed platform that has no entry of its own. */
export interface MisspeltBotId {
  readonly entry: string;
  readonly meant: string;
}

/**
 * Map entries a slip away from a listed platform that has none (`dicsord` beside `discord`):
 * that platform starts with botId "" (config.md: a missing entry) and the entry goes unused, so
 * the start says so as a warning. Entries near no such platform are not listed: one map may serve
 * sidecars fronting other platforms. Empty while either variable is unset or the map malformed
 * (the load refuses a malformed map itself).
 */
export function misspeltBotIds(env: NodeJS.ProcessEnv): MisspeltBotId[] {
  const platforms = envValue(env, 'GATEWAY_RELAY_PLATFORMS');
  if (platforms === undefined) return [];
  let entries: string[];
  try {
    entries = Object.keys(parseBotIds(envValue(env, 'GATEWAY_RELAY_BOT_IDS')));
  } catch {
    return [];
  }
  const listed = list(platforms);
  const without = listed.filter((p) => !entries.includes(p));
  const out: MisspeltBotId[] = [];
  for (const entry of entries) {
    const meant = listed.includes(entry) ? undefined : closestName(entry, without);
    if (meant !== undefined) out.push({ entry: entry.slice(0, 100), meant });
  }
  return out;
}

/** The warning line for one misspelt entry (names only: never the bot id). */
export function misspeltBotIdWarning(m: MisspeltBotId): string {
  return `GATEWAY_RELAY_BOT_IDS entry "${m.entry}" is no platform of GATEWAY_RELAY_PLATFORMS: did you mean "${m.meant}"? (without an entry ${m.meant} starts with botId "")`;
}

/** Parse `{"discord":{"botId":"…"}, …}`; malformed ⇒ the start is refused. */
export function parseBotIds(raw: string | undefined): Record<string, string> {
  if (raw === undefined || raw.trim() === '') return {};
  const fail = (why: string): never => {
    throw new RelayError(
      'CORE_ERR_CONFIG_BOT_IDS_MALFORMED',
      `GATEWAY_RELAY_BOT_IDS ${why}; expected a JSON object like {"discord":{"botId":"123"}}`,
    );
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail('is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('is not a JSON object');
  const out: Record<string, string> = {};
  for (const [platform, entry] of Object.entries(parsed as Record<string, unknown>)) {
    const botId = entry && typeof entry === 'object' ? (entry as { botId?: unknown }).botId : undefined;
    if (typeof botId !== 'string' && typeof botId !== 'number')
      fail(`entry "${platform}" has no string botId`);
    out[platform] = String(botId);
  }
  return out;
}

/** The env overlay in nested config form. */
export function envOverlay(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const b of ENV_BINDINGS) {
    const raw = envValue(env, b.env);
    if (raw === undefined) continue;
    setPath(out, b.path, b.parse ? b.parse(raw) : raw);
  }
  const identities = identitiesFromEnv(env);
  if (identities) setPath(out, ['relay', 'identities'], identities);
  return out;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
