/**
 * `GATEWAY_RELAY_BOT_IDS`, the JSON map `{"discord":{"botId":"…"}, …}` (spec/config.md): parsed
 * once per load, by the env overlay, which also says what in a well-formed map goes unused.
 */
import { RelayError } from '../errors.js';
import { closestName } from './closest-name.js';
import type { ConfigWarning } from './env-map.js';

/** The map read. */
export interface BotIds {
  /**
   * The bot id by platform, entries in the order written. A Map: a record read `constructor` or
   * `__proto__` from Object.prototype for a platform without an entry.
   */
  readonly byPlatform: ReadonlyMap<string, string>;
}

/**
 * Parse `{"discord":{"botId":"…"}, …}`; unset or blank ⇒ an empty map.
 * @throws RelayError `CORE_ERR_CONFIG_BOT_IDS_MALFORMED` when malformed (the start is refused).
 */
export function parseBotIds(raw: string | undefined): BotIds {
  if (raw === undefined || raw.trim() === '') return { byPlatform: new Map() };
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
  const byPlatform = new Map<string, string>();
  for (const [platform, entry] of Object.entries(parsed as Record<string, unknown>)) {
    const botId = entry && typeof entry === 'object' ? (entry as { botId?: unknown }).botId : undefined;
    if (typeof botId !== 'string' && typeof botId !== 'number')
      fail(`entry "${platform}" has no string botId`);
    byPlatform.set(platform, String(botId));
  }
  return { byPlatform };
}

/**
 * What a well-formed map leaves unused for `listed` platforms: an entry a slip away from a listed
 * platform that has none (`dicsord` beside `discord`) starts that platform with botId ""
 * (config.md: a missing entry), so the start says so. Entries near no such platform are not
 * named: one map may serve sidecars fronting other platforms. Names only, never a bot id.
 */
export function botIdsWarnings(botIds: BotIds, listed: readonly string[]): ConfigWarning[] {
  const entries = [...botIds.byPlatform.keys()];
  const without = listed.filter((p) => !entries.includes(p));
  const out: ConfigWarning[] = [];
  for (const entry of entries) {
    const meant = listed.includes(entry) ? undefined : closestName(entry, without);
    if (meant === undefined) continue;
    out.push({
      message: `GATEWAY_RELAY_BOT_IDS entry "${entry.slice(0, 100)}" is no platform of GATEWAY_RELAY_PLATFORMS: did you mean "${meant}"? (without an entry ${meant} starts with botId "")`,
      fix: `rename the entry "${meant}"`,
    });
  }
  return out;
}
