/**
 * Plugin code does not see the sidecar's credentials: a pool worker's and the start-up check's
 * `process.env` lack the relay secret, the API token, the enrolment and identity tokens, the
 * delivery key and the URLs that may carry credentials, which a careless plugin (or a library
 * that prints its environment on failure) could put in a message the host cannot know to
 * redact. Its own variables are kept (real pool, real check thread, a real plugin module).
 */
import test from 'ava';
import { pluginModule } from '../../helpers/plugin-module.js';
import { forward, startFixtureHost } from '../plugin-host/fixture-host.js';

const HIDDEN = {
  GATEWAY_RELAY_SECRET: 'relay-secret-0123456789abcdef',
  SIDECAR_API_TOKEN: 'api-token-0123456789abcdef',
  GATEWAY_RELAY_ENROLL_TOKEN: 'enroll-token-0123456789abcdef',
  GATEWAY_RELAY_IDENTITY_TOKEN: 'identity-token-0123456789abcdef',
  GATEWAY_RELAY_DELIVERY_KEY: 'delivery-key-0123456789abcdef',
  AGENT_URL: 'http://agent:pass-0123456789@127.0.0.1:9/relay',
  GATEWAY_RELAY_URL: 'https://connector.example/?key=0123456789abcdef',
};
const NAMES = [...Object.keys(HIDDEN), 'PLUGIN_OWN_SETTING'];

test("plugin code, at import and in a hook, sees its own variables but not the sidecar's credentials", async (t) => {
  Object.assign(process.env, HIDDEN, { PLUGIN_OWN_SETTING: 'kept' });
  t.teardown(() => {
    for (const name of NAMES) delete process.env[name];
  });
  const module = pluginModule(
    t,
    'env-reader',
    // at import: the check thread and each pool worker evaluate this
    `const names = ${JSON.stringify(NAMES)};
     const seen = () => Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]));
     const atImport = seen();
     // the start-up check's thread imports it too: a module seeing a credential there fails the start
     if (${JSON.stringify(Object.keys(HIDDEN))}.some((n) => process.env[n] !== undefined))
       throw new Error('saw a credential at import');`,
    `passthrough: { platforms: ['env'], convert: () => ({ events: [{ event: {
       text: JSON.stringify({ atImport, inHook: seen() }),
       source: { platform: 'env', chat_id: 'c', chat_type: 'dm', user_id: 'u' },
     } }] }) }`,
  );
  const { host } = await startFixtureHost(t, [{ name: 'env-reader', module, timeoutMs: 10_000 }]);
  const outcome = await host.convertForward(forward('env', {}));
  if (outcome.kind !== 'events') return t.fail(JSON.stringify(outcome));
  const seen = JSON.parse(String(outcome.events[0]?.event.text)) as Record<string, Record<string, unknown>>;
  const expected = {
    ...Object.fromEntries(Object.keys(HIDDEN).map((n) => [n, null])),
    PLUGIN_OWN_SETTING: 'kept',
  };
  t.deepEqual(seen, { atImport: expected, inHook: expected });
});
