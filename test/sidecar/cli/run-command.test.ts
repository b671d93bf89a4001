/**
 * `relay-sidecar run` as a real child process against a loopback dev connector: the start-up
 * summary (and what it must never show), the exit codes of a refused start (2), revocation (3),
 * and staying up when revoked if configured.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { databasePath, migrate, openDatabase } from '../../../core/store/database.js';
import { KV_MIGRATIONS } from '../../../core/store/kv-migrations.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { INBOX_MIGRATIONS } from '../../../sidecar/inbox/inbox-migrations.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { api, runChild, runEnv, startRelay, waitReady } from '../lifecycle/run-fixture.js';
import { spawnCli, tempDir, writeJson } from '../lifecycle/sidecar-child.js';

const BOT_IDS = {
  discord: { botId: '987654321098765432' },
  twilio: { botId: 'AC00000000000000000000000000000abc' },
};

/** A summary line's value: `  <label>   <value>`. */
function summaryValue(stderr: string, label: string): string | undefined {
  return new RegExp(`^ {2}${label} +(.+)$`, 'm').exec(stderr)?.[1];
}

test.serial(
  'the start-up summary names gateway, identities, connector without credentials, plugins, agent mode and API; never a secret',
  async (t) => {
    const relay = await startRelay(t);
    const urlPassword = `pw-${randomBytes(6).toString('hex')}`;
    const urlQuery = `q-${randomBytes(6).toString('hex')}`;
    const agentPassword = `apw-${randomBytes(6).toString('hex')}`;
    const agentQuery = `aq-${randomBytes(6).toString('hex')}`;
    // push delivery sends user:pass@ as Basic auth; the summary printed the whole URL
    const agentUrl = `http://hook:${agentPassword}@127.0.0.1:9/agent-hook?key=${agentQuery}`;
    const run = await runChild(t, relay, {
      agentUrl,
      platforms: 'discord,twilio',
      env: {
        GATEWAY_RELAY_URL: `http://opsuser:${urlPassword}@127.0.0.1:${relay.connector.port}/?access_token=${urlQuery}`,
        GATEWAY_RELAY_BOT_IDS: JSON.stringify(BOT_IDS),
      },
    });
    const err = run.child.stderr();
    t.is(summaryValue(err, 'gateway id'), relay.gatewayId);
    t.is(
      summaryValue(err, 'identities'),
      'discord/987654321098765432, twilio/AC00000000000000000000000000000abc',
    );
    t.is(summaryValue(err, 'connector'), `ws://127.0.0.1:${relay.connector.port}/relay`);
    t.is(summaryValue(err, 'plugins'), 'scope-reattacher, follow-up, discord-interaction, twilio');
    t.is(summaryValue(err, 'agent'), 'push → http://127.0.0.1:9/agent-hook');
    // the address printed is the one actually bound (port 0 was asked for)
    const health = await fetch(`${await run.child.apiUrl()}/healthz`);
    t.is(health.status, 200);
    // the credentials in the URL still reached the connector's upgrade (authenticated dial worked)
    t.true(relay.connector.upgrades.some((u) => u.authorized && u.gatewayId === relay.gatewayId));

    run.child.proc.kill('SIGTERM');
    t.is((await run.child.waitExit()).code, 0);
    const everything = run.child.stderr() + run.child.stdout();
    for (const secret of [
      relay.secret,
      run.apiToken,
      urlPassword,
      urlQuery,
      'opsuser',
      agentPassword,
      agentQuery,
    ]) {
      t.false(everything.includes(secret), `printed a secret: ${secret.slice(0, 6)}…`);
    }
  },
);

test.serial('missing GATEWAY_RELAY_URL exits 2 naming the variable', async (t) => {
  const relay = await startRelay(t);
  const env = runEnv(t, relay);
  delete env.GATEWAY_RELAY_URL;
  const child = spawnCli(t, ['run'], env);
  t.is((await child.waitExit()).code, 2);
  t.regex(child.stderr(), /GATEWAY_RELAY_URL \(or relay\.url in the config file\) is required/);
  t.is(relay.connector.totalConnections(), 0);
});

test.serial(
  '--env-path supplies the credentials enroll wrote; a missing env file exits 2 naming it',
  async (t) => {
    const relay = await startRelay(t);
    const env = runEnv(t, relay);
    const dir = tempDir(t);
    const envFile = join(dir, '.env.relay');
    writeFileSync(
      envFile,
      `GATEWAY_RELAY_ID=${env.GATEWAY_RELAY_ID}\nGATEWAY_RELAY_SECRET=${env.GATEWAY_RELAY_SECRET}\nGATEWAY_RELAY_URL=${env.GATEWAY_RELAY_URL}\n`,
      { mode: 0o600 },
    );
    delete env.GATEWAY_RELAY_URL;
    delete env.GATEWAY_RELAY_SECRET;
    const before = relay.connector.totalConnections();
    const child = spawnCli(t, ['run', '--env-path', envFile], env);
    await waitReady(relay.connector, before);
    // the dial was authenticated with the file's secret
    t.true(relay.connector.upgrades.some((u) => u.authorized && u.gatewayId === relay.gatewayId));
    child.proc.kill('SIGTERM');
    t.is((await child.waitExit()).code, 0);

    const missing = spawnCli(t, ['run', '--env-path', join(dir, 'nope.env')], env);
    t.is((await missing.waitExit()).code, 2);
    t.regex(
      missing.stderr(),
      /^run: CORE_ERR_CONFIG_INVALID: env file .*nope\.env does not exist or is empty/,
    );
  },
);

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

test.serial('a second sidecar on the same data directory exits 2 at once; the first runs on', async (t) => {
  const relay = await startRelay(t);
  const first = await runChild(t, relay);
  const second = spawnCli(t, ['run'], first.env);
  t.is((await second.waitExit()).code, 2);
  t.regex(
    second.stderr(),
    /^run: CORE_ERR_STORE_OPEN_FAILED: another relay-sidecar is running on the data directory /m,
  );
  t.is(first.child.proc.exitCode, null, 'the first is untouched');
  t.is(relay.connector.totalConnections(), 1);
});

test.serial(
  'a store a newer build migrated (a rolled-back binary) exits 2 naming the versions; nothing dials or changes',
  async (t) => {
    const relay = await startRelay(t);
    for (const [name, steps] of [
      ['kv', KV_MIGRATIONS],
      ['inbox', INBOX_MIGRATIONS],
    ] as const) {
      const dataDir = join(tempDir(t), 'data');
      const db = openDatabase(databasePath(dataDir));
      migrate(db, 'kv', KV_MIGRATIONS);
      migrate(db, 'inbox', INBOX_MIGRATIONS);
      // what a build with one more step of this component leaves behind
      db.prepare('UPDATE schema_migrations SET version = version + 1 WHERE name = ?').run(name);
      const recorded = () =>
        db.prepare('SELECT name, version, applied_at FROM schema_migrations ORDER BY name').all();
      const before = recorded();
      const child = spawnCli(t, ['run'], runEnv(t, relay, { dataDir }));
      t.is((await child.waitExit()).code, 2, name);
      t.regex(
        child.stderr(),
        new RegExp(
          `^run: CORE_ERR_STORE_SCHEMA_TOO_NEW: the store .*sidecar\\.db: its "${name}" schema is at version ${steps.length + 1}; this build knows versions up to ${steps.length}`,
          'm',
        ),
        name,
      );
      t.like(
        child.logs.find((l) => l.msg === 'start failed'),
        { code: 'CORE_ERR_STORE_SCHEMA_TOO_NEW', level: 50 },
      );
      t.notRegex(child.stderr() + child.stdout(), /\n\s+at /, 'no stack trace');
      t.deepEqual(recorded(), before, name);
      db.close();
    }
    t.is(relay.connector.totalConnections(), 0);
  },
);

test.serial('a store another process holds locked exits 2 naming the lock and what to do', async (t) => {
  const relay = await startRelay(t);
  const dataDir = join(tempDir(t), 'data');
  const file = databasePath(dataDir);
  openDatabase(file).close();
  // not a sidecar: a process with the store's write lock taken (a sqlite3 shell in a transaction)
  const script = `const db = new (require('better-sqlite3'))(${JSON.stringify(file)});
    db.exec('BEGIN EXCLUSIVE'); console.log('locked'); setInterval(() => {}, 1000);`;
  const holder = spawn(process.execPath, ['-e', script], {
    cwd: repoRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => holder.kill());
  await new Promise<void>((ok, fail) => {
    holder.stdout.on('data', () => ok());
    holder.on('exit', () => fail(new Error('the lock holder ended')));
  });
  const child = spawnCli(t, ['run'], runEnv(t, relay, { dataDir }));
  t.is((await child.waitExit()).code, 2);
  t.regex(
    child.stderr(),
    /^run: CORE_ERR_STORE_OPEN_FAILED: cannot open the store .*sidecar\.db: database is locked; another process holds its write lock/m,
  );
  t.like(
    child.logs.find((l) => l.msg === 'start failed'),
    { code: 'CORE_ERR_STORE_OPEN_FAILED', level: 50 },
  );
  t.notRegex(child.stderr() + child.stdout(), /\n\s+at /, 'no stack trace');
  t.is(relay.connector.totalConnections(), 0);
});

test.serial(
  'a damaged store (not SQLite, truncated) exits 2 saying it is damaged and what to do',
  async (t) => {
    const relay = await startRelay(t);
    const damaged: Record<string, (file: string) => void> = {
      'not a database': (file) => writeFileSync(file, 'this is not a SQLite file\n'.repeat(100)),
      truncated: (file) => truncateSync(file, 16 * 4096),
    };
    for (const [what, damage] of Object.entries(damaged)) {
      const dataDir = join(tempDir(t), 'data');
      const file = databasePath(dataDir);
      const db = openDatabase(file);
      const kv = new KvStore(db);
      for (let i = 0; i < 500; i++) kv.set('plugin', `key-${i}`, 'x'.repeat(500));
      db.close();
      damage(file);
      const child = spawnCli(t, ['run'], runEnv(t, relay, { dataDir }));
      t.is((await child.waitExit()).code, 2, what);
      t.regex(
        child.stderr(),
        /^run: CORE_ERR_STORE_OPEN_FAILED: cannot open the store .*sidecar\.db: .*; the file is damaged or not a relay-sidecar store: .*move the data directory aside/m,
        what,
      );
      t.notRegex(child.stderr() + child.stdout(), /\n\s+at /, 'no stack trace');
    }
    t.is(relay.connector.totalConnections(), 0);
  },
);

test.serial(
  'the store files are private to the sidecar user, even in a data directory others may read',
  async (t) => {
    const relay = await startRelay(t);
    const dataDir = join(tempDir(t), 'shared-data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const run = await runChild(t, relay, { dataDir });
    for (const file of ['sidecar.db', 'sidecar.db-wal', 'sidecar.lock', 'api-token']) {
      const path = join(dataDir, file);
      if (file !== 'api-token' || existsSync(path)) t.is(statSync(path).mode & 0o077, 0, file);
    }
    run.child.proc.kill('SIGTERM');
    t.is((await run.child.waitExit()).code, 0);
  },
);

/** Close with 4401 `revoked` after the handshake, twice (the second on the immediate redial). */
async function revokeTwice(relay: Awaited<ReturnType<typeof startRelay>>): Promise<void> {
  const first = await relay.connector.waitForConnection();
  relay.connector.close4401('revoked');
  await waitReady(relay.connector, first);
  relay.connector.close4401('revoked');
}

test.serial(
  'revocation (4401 twice after handshakes, not expired) exits 3 with an actionable message',
  async (t) => {
    const relay = await startRelay(t);
    const run = await runChild(t, relay);
    await revokeTwice(relay);
    t.is((await run.child.waitExit()).code, 3);
    t.regex(run.child.stderr(), /revoked/);
    t.regex(run.child.stderr(), /relay-sidecar enroll/);
    t.truthy(run.child.logs.find((l) => l.code === 'CORE_ERR_TRANSPORT_REVOKED'));
    t.is(relay.connector.totalConnections(), 2, 'no dial after the revocation');
  },
);

test.serial(
  'with relay.stayUpWhenRevoked the process stays up, /readyz says revoked, and SIGTERM still stops it',
  async (t) => {
    const relay = await startRelay(t);
    const run = await runChild(t, relay, { config: { relay: { stayUpWhenRevoked: true } } });
    await revokeTwice(relay);
    await run.child.waitStderr(/revoked.*staying up/);
    const ready = await api(run, '/readyz');
    t.is(ready.status, 503);
    t.is(ready.body.state, 'revoked');
    const action = await api(run, '/v1/actions', {
      method: 'POST',
      body: { op: 'send', chat_id: 'c1', content: 'after revocation' },
    });
    t.is(action.body.error?.code, 'relay_revoked');
    t.false(run.child.exited());
    t.falsy(run.child.logs.find((l) => l.msg === 'shutdown started'));

    run.child.proc.kill('SIGTERM');
    t.is((await run.child.waitExit()).code, 0);
    t.is(relay.connector.totalConnections(), 2);
  },
);
