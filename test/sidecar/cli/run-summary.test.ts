/**
 * `relay-sidecar run` as a real child process against a loopback dev connector: the start-up summary
 * (gateway, identities, connector without credentials, plugins, agent mode, API; never a secret), and
 * --env-path supplying the credentials enroll wrote (a missing env file exits 2).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { runChild, runEnv, startRelay, waitReady } from '../lifecycle/run-fixture.js';
import { spawnCli, tempDir } from '../lifecycle/sidecar-child.js';

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

test.serial(
  'a gateway id without a secret is shown as an unauthenticated dial, not as that gateway',
  async (t) => {
    // was: "gateway id   gw-…" as for an authenticated dial; only a log line (dialing without
    // authentication) said that GATEWAY_RELAY_SECRET was missing
    const relay = await startRelay(t, { secrets: [] });
    const run = await runChild(t, relay, { env: { GATEWAY_RELAY_SECRET: '' } });
    t.regex(
      summaryValue(run.child.stderr(), 'gateway id') ?? '',
      new RegExp(`^${relay.gatewayId} \\(no GATEWAY_RELAY_SECRET: unauthenticated dial, dev only\\)$`),
    );
    run.child.proc.kill('SIGTERM');
    t.is((await run.child.waitExit()).code, 0);
  },
);

test.serial('a self-provisioning start whose provisioning failed says so, not "dev only"', async (t) => {
  // was: "(no GATEWAY_RELAY_SECRET: unauthenticated dial, dev only)", as if the operator had
  // left the secret out of a dev set-up, when the identity token was refused at boot
  const relay = await startRelay(t, { secrets: [] });
  const run = await runChild(t, relay, {
    env: { GATEWAY_RELAY_SECRET: '', GATEWAY_RELAY_IDENTITY_TOKEN: 'not-an-identity-token-0123456789' },
  });
  const line = summaryValue(run.child.stderr(), 'gateway id') ?? '';
  t.regex(
    line,
    /provisioning failed at start \(CORE_ERR_PROVISION_FAILED in the log\): unauthenticated dial/,
  );
  t.notRegex(line, /dev only/);
  t.false(run.child.stderr().includes('not-an-identity-token'), 'the token is not shown');
  run.child.proc.kill('SIGTERM');
  t.is((await run.child.waitExit()).code, 0);
});
