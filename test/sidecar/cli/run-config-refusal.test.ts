/**
 * `relay-sidecar run` as a real child process refusing a bad configuration with exit 2, naming the
 * variable or key and never a secret, before anything dials: a missing or bad GATEWAY_RELAY_URL, a bad
 * SIDECAR_LISTEN or AGENT_URL, an invalid config value, a bad manifest or plugin, an API address in use.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { repoRoot } from '../../helpers/repo-root.js';
import { runEnv, startRelay } from '../lifecycle/run-fixture.js';
import { spawnCli, tempDir, writeJson } from '../lifecycle/sidecar-child.js';

test.serial('missing GATEWAY_RELAY_URL exits 2 naming the variable', async (t) => {
  const relay = await startRelay(t);
  const env = runEnv(t, relay);
  delete env.GATEWAY_RELAY_URL;
  const child = spawnCli(t, ['run'], env);
  t.is((await child.waitExit()).code, 2);
  t.regex(child.stderr(), /GATEWAY_RELAY_URL \(or relay\.url in the config file\) is required/);
  t.is(relay.connector.totalConnections(), 0);
});

test.serial('a bad GATEWAY_RELAY_URL exits 2 naming the variable, before the API opens', async (t) => {
  const relay = await startRelay(t);
  for (const url of ['relay.example.com', 'ftp://x']) {
    const child = spawnCli(t, ['run'], runEnv(t, relay, { env: { GATEWAY_RELAY_URL: url } }));
    // a start refused this late used to leave the API up and the process running forever
    t.is((await child.waitExit()).code, 2, url);
    t.regex(child.stderr(), /relay\.url \(GATEWAY_RELAY_URL\): must be/);
    t.falsy(
      child.logs.find((l) => l.msg === 'agent api listening'),
      'the API opened first',
    );
  }
  t.is(relay.connector.totalConnections(), 0);
});

test.serial(
  'a bad SIDECAR_LISTEN or AGENT_URL exits 2 naming the variable, before the data dir is made',
  async (t) => {
    const relay = await startRelay(t);
    for (const [env, named] of [
      [{ SIDECAR_LISTEN: '127.0.0.1:99999' }, /api\.listen \(SIDECAR_LISTEN\): port must be/],
      [{ AGENT_URL: 'localhost:9000/relay' }, /agent\.url \(AGENT_URL\): must be an absolute http/],
    ] as const) {
      const dataDir = join(tempDir(t), 'data');
      const child = spawnCli(t, ['run'], runEnv(t, relay, { dataDir, env }));
      // were: refused only once the data dir, its lock and the api token existed (the listen
      // address), or as CORE_ERR_STORE_OPEN_FAILED "cannot open the inbox: Invalid URL" (AGENT_URL)
      t.is((await child.waitExit()).code, 2, child.stderr());
      t.regex(child.stderr(), /^run: CORE_ERR_CONFIG_INVALID: invalid configuration:\n/);
      t.regex(child.stderr(), named);
      t.false(existsSync(dataDir), 'the data dir was created');
    }
    t.is(relay.connector.totalConnections(), 0);
  },
);

test.serial('an invalid config value exits 2 naming the key, and never echoes a secret value', async (t) => {
  const relay = await startRelay(t);
  const badFile = spawnCli(t, ['run'], runEnv(t, relay, { config: { shutdown: { budgetMs: -5 } } }));
  const badEnv = spawnCli(t, ['run'], runEnv(t, relay, { env: { LOG_LEVEL: 'loud' } }));
  const shortToken = 'tiny-secret';
  const badSecret = spawnCli(t, ['run'], runEnv(t, relay, { env: { SIDECAR_API_TOKEN: shortToken } }));
  t.is((await badFile.waitExit()).code, 2);
  t.regex(badFile.stderr(), /shutdown\.budgetMs/);
  t.is((await badEnv.waitExit()).code, 2);
  t.regex(badEnv.stderr(), /log\.level \(LOG_LEVEL\)/);
  t.is((await badSecret.waitExit()).code, 2);
  t.regex(
    badSecret.stderr(),
    /^run: CORE_ERR_CONFIG_INVALID: invalid configuration:\n {2}api\.token \(SIDECAR_API_TOKEN\)/,
  );
  t.false(badSecret.stderr().includes(shortToken));
  t.is(relay.connector.totalConnections(), 0);
});

test.serial('a bad manifest, or a plugin that fails to load, exits 2 naming the plugin', async (t) => {
  const relay = await startRelay(t);
  const dir = tempDir(t);
  const invalid = writeJson(dir, 'invalid.json', {
    apiVersion: 1,
    plugins: [{ name: 'typo-plugin', module: 'relay-sidecar/plugins/twilio', enabled: 'yes' }],
  });
  const broken = writeJson(dir, 'broken.json', {
    apiVersion: 1,
    plugins: [
      {
        name: 'broken-import',
        module: `${repoRoot()}/dist/test/fixtures/plugins/broken-import.js`,
        enabled: true,
        options: {},
      },
    ],
  });
  const a = spawnCli(t, ['run'], runEnv(t, relay, { env: { SIDECAR_PLUGINS: invalid } }));
  // the --plugins flag overrides SIDECAR_PLUGINS
  const b = spawnCli(t, ['run', '--plugins', broken], runEnv(t, relay));
  t.is((await a.waitExit()).code, 2);
  t.regex(a.stderr(), /plugin "typo-plugin"/);
  t.is((await b.waitExit()).code, 2);
  t.regex(b.stderr(), /plugin "broken-import"/);
  t.is(relay.connector.totalConnections(), 0);
});

test.serial('an API address already in use exits 2 before anything dials', async (t) => {
  const relay = await startRelay(t);
  const squatter = createServer();
  await new Promise<void>((ok) => squatter.listen(0, '127.0.0.1', ok));
  t.teardown(() => new Promise<void>((ok) => squatter.close(() => ok())));
  const { port } = squatter.address() as { port: number };
  const child = spawnCli(t, ['run'], runEnv(t, relay, { env: { SIDECAR_LISTEN: `127.0.0.1:${port}` } }));
  t.is((await child.waitExit()).code, 2);
  t.regex(child.stderr(), new RegExp(`^run: CORE_ERR_API_LISTEN_FAILED: .*127\\.0\\.0\\.1:${port}`, 'm'));
  // the log (stdout, JSON) carries the code like every other failure
  t.like(
    child.logs.find((l) => l.msg === 'start failed'),
    { code: 'CORE_ERR_API_LISTEN_FAILED', level: 50 },
  );
  t.is(relay.connector.totalConnections(), 0);
});
