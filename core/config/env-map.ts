/**
 * The environment variables of `spec/config.md` and where each lands in the nested config.
 * Env wins over the config file. Parsing of list/JSON/boolean variables happens here; the
 * result is validated by the one schema afterwards.
 */
import { botIdsWarnings, parseBotIds, unreadKeyWarnings } from './bot-ids.js';

/**
 * Something the environment sets that the start goes ahead with but an operator should hear of
 * (a `GATEWAY_RELAY_BOT_IDS` entry that goes unused): `run` and `doctor` print it.
 */
export interface ConfigWarning {
  /** The sentence: names only, never a value (it may be a secret, or a bot id). */
  readonly message: string;
  /** What to do about it. */
  readonly fix: string;
}

/** Where the env overlay says its warnings; none by default. */
export type WarnFn = (warning: ConfigWarning) => void;

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
 * legacy `GATEWAY_RELAY_PLATFORM` + `GATEWAY_RELAY_BOT_ID`. Undefined when none is set. What the
 * map leaves unused goes to `warn`, from this one parse of it.
 * @throws RelayError `CORE_ERR_CONFIG_BOT_IDS_MALFORMED` when `GATEWAY_RELAY_BOT_IDS` is set and
 * malformed, even when `GATEWAY_RELAY_PLATFORMS` is unset and the map would go unused.
 */
export function identitiesFromEnv(
  env: NodeJS.ProcessEnv,
  warn: WarnFn = () => {},
): { platform: string; botId: string }[] | undefined {
  // parsed whenever set: a malformed map refuses the start rather than being silently ignored
  const botIds = parseBotIds(envValue(env, 'GATEWAY_RELAY_BOT_IDS'));
  for (const w of unreadKeyWarnings(botIds)) warn(w);
  const platforms = envValue(env, 'GATEWAY_RELAY_PLATFORMS');
  if (platforms !== undefined) {
    const listed = list(platforms);
    for (const w of botIdsWarnings(botIds, listed)) warn(w);
    return listed.map((platform) => ({ platform, botId: botIds.byPlatform.get(platform) ?? '' }));
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

/** The env overlay in nested config form; warnings (see {@link ConfigWarning}) go to `warn`. */
export function envOverlay(env: NodeJS.ProcessEnv, warn?: WarnFn): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const b of ENV_BINDINGS) {
    const raw = envValue(env, b.env);
    if (raw === undefined) continue;
    setPath(out, b.path, b.parse ? b.parse(raw) : raw);
  }
  const identities = identitiesFromEnv(env, warn);
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
