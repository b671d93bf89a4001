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
  /** The entries' keys other than botId, which nothing reads, in the order written. */
  readonly unread: readonly { readonly entry: string; readonly key: string }[];
}

/** The one key an entry takes (spec/config.md). */
const BOT_ID = 'botId';

/** Warnings of one kind named one each; past this, one line counts the rest. */
const MAX_WARNINGS = 10;

/**
 * A name from the map as a message shows it: quoted, at most 100 characters, with a control
 * character escaped (JSON's escapes, `?` for DEL and C1): a newline or a terminal escape in a
 * key must not forge or wipe a line of the operator's stderr.
 */
function shown(name: string): string {
  return JSON.stringify(name.slice(0, 100)).replace(CONTROL_AFTER_JSON, '?');
}

/** DEL and the C1 controls, which JSON.stringify leaves as they are. */
const CONTROL_AFTER_JSON = /[\u007f-\u009f]/g;

/**
 * Parse `{"discord":{"botId":"…"}, …}`; unset or blank ⇒ an empty map.
 * @throws RelayError `CORE_ERR_CONFIG_BOT_IDS_MALFORMED` when malformed (the start is refused).
 */
export function parseBotIds(raw: string | undefined): BotIds {
  if (raw === undefined || raw.trim() === '') return { byPlatform: new Map(), unread: [] };
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
  const unread: { entry: string; key: string }[] = [];
  for (const [platform, entry] of Object.entries(parsed as Record<string, unknown>)) {
    const keys = entry && typeof entry === 'object' && !Array.isArray(entry) ? Object.keys(entry) : [];
    const botId = keys.includes(BOT_ID) ? (entry as Record<string, unknown>)[BOT_ID] : undefined;
    if (typeof botId !== 'string' && typeof botId !== 'number') {
      // there but null, an object…: no slip to point at (botId is itself a slip of botId)
      if (keys.includes(BOT_ID)) fail(`entry ${shown(platform)} has a botId that is no string or number`);
      // `botID`, `bot_id`: the key meant, never its value (the bot id)
      const slip = keys.find((k) => closestName(k, [BOT_ID]) !== undefined);
      const meant = slip === undefined ? '' : ` (it has ${shown(slip)}: did you mean "${BOT_ID}"?)`;
      fail(`entry ${shown(platform)} has no string botId${meant}`);
    }
    byPlatform.set(platform, String(botId));
    for (const key of keys) if (key !== BOT_ID) unread.push({ entry: platform, key });
  }
  return { byPlatform, unread };
}

/**
 * The keys of the map's entries other than botId: read by no sidecar, so said whatever the
 * platforms listed (config.md fixes an entry as `{"botId": …}`; a well-formed map is not refused
 * for them). At most {@link MAX_WARNINGS} named, the rest counted. Names only.
 */
export function unreadKeyWarnings(botIds: BotIds): ConfigWarning[] {
  const all = botIds.unread.map(({ entry, key }) => {
    const meant = closestName(key, [BOT_ID]) === undefined ? '' : `: did you mean "${BOT_ID}"?`;
    return {
      message: `GATEWAY_RELAY_BOT_IDS entry ${shown(entry)} has the key ${shown(key)}, which is not read${meant} (an entry takes only ${BOT_ID})`,
      fix: `remove the key ${shown(key)} from the entry ${shown(entry)}`,
    };
  });
  return bounded(all, (more) => ({
    message: `GATEWAY_RELAY_BOT_IDS has ${more} more keys that are not read (an entry takes only ${BOT_ID})`,
    fix: `leave only ${BOT_ID} in each entry`,
  }));
}

/**
 * The first {@link MAX_WARNINGS} of `all`, then one line (`rest`) counting the others: a large
 * shared map must not flood stderr.
 */
function bounded(all: ConfigWarning[], rest: (more: number) => ConfigWarning): ConfigWarning[] {
  const named = all.slice(0, MAX_WARNINGS);
  if (all.length > named.length) named.push(rest(all.length - named.length));
  return named;
}

/** Most entry–platform pairs compared for slips; past it no entry is named. */
export const MAX_SLIP_PAIRS = 65_536;

/**
 * What a well-formed map leaves unused for `listed` platforms: an entry a slip away from a listed
 * platform that has none (`dicsord` beside `discord`) starts that platform with botId ""
 * (config.md: a missing entry), so the start says so. Entries near no such platform are not
 * named: one map may serve sidecars fronting other platforms. At most {@link MAX_WARNINGS}
 * named, the rest counted; none past {@link MAX_SLIP_PAIRS} pairs. Names only, never a bot id.
 */
export function botIdsWarnings(botIds: BotIds, listed: readonly string[]): ConfigWarning[] {
  const isListed = new Set(listed);
  const entries = [...botIds.byPlatform.keys()].filter((entry) => !isListed.has(entry));
  const without = listed.filter((p) => !botIds.byPlatform.has(p));
  const out: ConfigWarning[] = [];
  // each entry is compared with each platform: a map that large is no typo's, and compared whole
  // (2 000 entries against 2 000 platforms) it held the start ~10 s
  if (entries.length * without.length > MAX_SLIP_PAIRS) return out;
  for (const entry of entries) {
    const meant = closestName(entry, without);
    if (meant === undefined) continue;
    // the platform as the entry is shown: it is said before the load checks the listed names
    out.push({
      message: `GATEWAY_RELAY_BOT_IDS entry ${shown(entry)} is no platform of GATEWAY_RELAY_PLATFORMS: did you mean ${shown(meant)}? (without an entry ${shown(meant)} starts with botId "")`,
      fix: `rename the entry ${shown(meant)}`,
    });
  }
  return bounded(out, (more) => ({
    message: `GATEWAY_RELAY_BOT_IDS has ${more} more entries that are no platform of GATEWAY_RELAY_PLATFORMS, each a slip from a listed one without an entry`,
    fix: 'rename each entry after the platform it is for',
  }));
}
