/**
 * Every value the normative specs state, pinned to its source: `spec/relay-contract.md`
 * (keepalive, sizes, timeouts, backoff, idle, token lifetime, side routes) and `spec/config.md`
 * (defaults of the environment variables) and `spec/plugins.md` (hook timeout, attempts, the
 * built-ins' defaults). docs/config.md is checked against the schema
 * (config-doc.test.ts), so a default changed in both passed every test; this one names the spec.
 */
import test from 'ava';
import { loadConfig } from '../../../core/config/load.js';
import { parseManifest } from '../../../core/plugin-host/manifest.js';
import { parsePluginOptions } from '../../../core/plugin-host/plugin-options.js';
import { DEFAULT_MAX_MESSAGE_LENGTH, LEGACY_OPS } from '../../../core/protocol/payloads.js';
import { UPGRADE_TOKEN_TTL_S } from '../../../core/transport/auth-token.js';
import { CLOSE_UNAUTHORIZED, REASON_EXPIRED, REVOKE_STRIKES } from '../../../core/transport/close-policy.js';
import { INTERACTION_CAPABILITY } from '../../../plugins/discord-interaction/index.js';
import scopeReattacher from '../../../plugins/scope-reattacher/index.js';
import { DEFAULT_SIDE_ROUTE_TIMEOUT_MS } from '../../../sidecar/side-routes/http-client.js';
import { MAX_MEDIA_BYTES } from '../../../sidecar/side-routes/media.js';

const MiB = 1024 * 1024;
const defaults = loadConfig({ env: {} });

/** [the spec's words, the value in force, the value the spec states] */
const RELAY_CONTRACT: readonly (readonly [string, unknown, unknown])[] = [
  ['§1 WebSocket protocol ping every 30 s', defaults.relay.pingIntervalMs, 30_000],
  ['§1 no pong within 60 s ⇒ dead', defaults.relay.pongTimeoutMs, 60_000],
  ['§1 maxPayload 16 MiB default', defaults.relay.maxPayloadBytes, 16 * MiB],
  ['§4 max_message_length ≤0 or not an integer ⇒ 4096', DEFAULT_MAX_MESSAGE_LENGTH, 4096],
  [
    '§4 empty supported_ops ⇒ send, edit, typing, follow_up',
    [...LEGACY_OPS],
    ['send', 'edit', 'typing', 'follow_up'],
  ],
  ['§4 no result within 30 s ⇒ timed out', defaults.relay.outboundTimeoutMs, 30_000],
  ['§5 going_idle_ack wait 10 s', defaults.relay.goingIdleTimeoutMs, 10_000],
  ['§5 going_idle_ack wait 2 s during shutdown', defaults.relay.shutdownGoingIdleTimeoutMs, 2_000],
  ['§6 upgrade token ttl 300 s', UPGRADE_TOKEN_TTL_S, 300],
  ['§6 upgrade token ttl 300 s (config default)', defaults.relay.tokenTtlS, 300],
  ['§6 close code 4401', CLOSE_UNAUTHORIZED, 4401],
  ['§6 reason expired ⇒ normal reconnect', REASON_EXPIRED, 'expired'],
  ['§6 a second non-expired 4401 ⇒ revoked', REVOKE_STRIKES, 2],
  ['§6 backoff from 1 s', defaults.relay.backoffBaseMs, 1_000],
  ['§6 backoff cap 30 s', defaults.relay.backoffMaxMs, 30_000],
  ['§6 up ≥ 60 s resets the ladder', defaults.relay.stableAfterMs, 60_000],
  ['§7 side routes: 15 s timeout (config default)', defaults.relay.sideRouteTimeoutMs, 15_000],
  ['§7 side routes: 15 s timeout (direct callers)', DEFAULT_SIDE_ROUTE_TIMEOUT_MS, 15_000],
  ['§7 media upload ≤ 25 MiB', MAX_MEDIA_BYTES, 25 * MiB],
];

const CONFIG: readonly (readonly [string, unknown, unknown])[] = [
  ['AGENT_MODE: pull without AGENT_URL', defaults.agent.mode, 'pull'],
  ['SIDECAR_LISTEN 127.0.0.1:7700', defaults.api.listen, '127.0.0.1:7700'],
  ['SIDECAR_DATA_DIR ./.relay-sidecar', defaults.dataDir, './.relay-sidecar'],
  ['SIDECAR_PLUGINS ./plugins.json', defaults.pluginsPath, './plugins.json'],
  ['LOG_LEVEL info', defaults.log.level, 'info'],
  ['LOG_PRETTY off', defaults.log.pretty, false],
  [
    'GATEWAY_RELAY_PLATFORM / GATEWAY_RELAY_BOT_ID relay / ""',
    defaults.relay.identities,
    [{ platform: 'relay', botId: '' }],
  ],
  ['no SIDECAR_API_TOKEN ⇒ generated (none configured)', defaults.api.token, undefined],
  ['relay-contract §4: group per-user on by default', defaults.session.groupSessionsPerUser, true],
  ['relay-contract §4: per-user-in-thread off by default', defaults.session.threadSessionsPerUser, false],
];

/** A manifest entry without `timeoutMs`, as the start reads it (the pool's default task timeout). */
const entry = parseManifest(
  { apiVersion: 1, plugins: [{ name: 'p', module: './p.js' }] },
  'plugins.json',
  defaults.pool.taskTimeoutMs,
).plugins[0];
const scopeOptions = parsePluginOptions(scopeReattacher as Parameters<typeof parsePluginOptions>[0], {});

const PLUGINS: readonly (readonly [string, unknown, unknown])[] = [
  ['plugins.md: timeoutMs default 2 000 ms', entry?.timeoutMs, 2_000],
  [
    'plugins.md: an entry is enabled, with no options, by default',
    [entry?.enabled, entry?.options],
    [true, {}],
  ],
  ['plugins.md: maxAttempts default 5', defaults.inbox.maxAttempts, 5],
  [
    'plugins.md: scope memory TTL 7 days, mirrorGuildId default true',
    scopeOptions,
    { ok: true, value: { ttlMs: 7 * 24 * 3_600_000, mirrorGuildId: true } },
  ],
  [
    'plugins.md: capabilities = ["discord.interaction_token"]',
    INTERACTION_CAPABILITY,
    'discord.interaction_token',
  ],
];

for (const [words, actual, stated] of [...RELAY_CONTRACT, ...CONFIG, ...PLUGINS]) {
  test(`spec value: ${words}`, (t) => {
    t.deepEqual(actual, stated);
  });
}

test('spec value: AGENT_MODE is push when AGENT_URL is set', (t) => {
  t.is(loadConfig({ env: { AGENT_URL: 'http://127.0.0.1:9000/relay' } }).agent.mode, 'push');
});
