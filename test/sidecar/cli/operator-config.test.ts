/**
 * What an operator sees on a first day of misconfiguration: each mistake gives one message that
 * says what was wrong, where (key, variable, line) and what to do, with a stable code and the
 * exit code docs/operations.md promises — run as the real CLI, in a child process. Here: the
 * configuration (misspelt variables and keys, a unit on a number).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { spawnCli, tempDir } from '../lifecycle/sidecar-child.js';

const PLUGINS = 'plugins.json';

test('run warns about a misspelt SIDECAR_/GATEWAY_ variable and names the missing URL with its code', async (t) => {
  const child = spawnCli(t, ['run'], {
    SIDECAR_DATADIR: tempDir(t),
    GATEWAY_RELAY_SECERT: 'not-echoed-secret-value',
    SIDECAR_PLUGINS: PLUGINS,
  });
  t.is((await child.waitExit()).code, 2);
  const err = child.stderr();
  t.regex(
    err,
    /^run: warning: GATEWAY_RELAY_SECERT is set but not read: did you mean GATEWAY_RELAY_SECRET\?$/m,
  );
  t.regex(err, /^run: warning: SIDECAR_DATADIR is set but not read: did you mean SIDECAR_DATA_DIR\?$/m);
  t.regex(
    err,
    /^run: CORE_ERR_CONFIG_INVALID: GATEWAY_RELAY_URL \(or relay\.url in the config file\) is required/m,
  );
  t.false(err.includes('not-echoed-secret-value'));
});

test('doctor shows a misspelt variable as a warning with the name to use', async (t) => {
  const child = spawnCli(t, ['doctor', '--timeout-ms', '500'], {
    SIDECAR_DATADIR: tempDir(t),
    SIDECAR_PLUGINS: PLUGINS,
  });
  await child.waitExit();
  t.regex(
    child.stdout(),
    /^! env — SIDECAR_DATADIR is set but relay-sidecar does not read it\. Fix: rename it SIDECAR_DATA_DIR$/m,
  );
});

test('a config file with a unit on a number, a quoted boolean and a misspelt key names each, with what to write', async (t) => {
  const file = join(tempDir(t), 'sidecar.yaml');
  writeFileSync(
    file,
    'relay:\n  pingIntervalMs: 30s\n  pingIntervalMS: 1\n  stayUpWhenRevoked: "yes"\nagent:\n  concurency: 3\n',
  );
  const child = spawnCli(t, ['run', '-c', file], {
    GATEWAY_RELAY_URL: 'http://127.0.0.1:1',
    SIDECAR_PLUGINS: PLUGINS,
    SIDECAR_DATA_DIR: tempDir(t),
  });
  t.is((await child.waitExit()).code, 2);
  const err = child.stderr();
  t.regex(err, /^run: CORE_ERR_CONFIG_INVALID: invalid configuration:$/m);
  t.regex(
    err,
    /relay\.pingIntervalMs: must be a plain number of ms, without a unit or quotes \(e\.g\. 30000, not "30s"\)/,
  );
  t.regex(err, /relay\.stayUpWhenRevoked: must be true or false, without quotes/);
  t.regex(err, /relay: unknown key "pingIntervalMS": did you mean "pingIntervalMs"\?/);
  t.regex(err, /agent: unknown key "concurency": did you mean "concurrency"\?/);
  t.false(err.includes('received string'));
});

test('an --env-path file with a line that is not KEY=value is refused naming the line, never its text', async (t) => {
  const file = join(tempDir(t), 'relay.env');
  writeFileSync(file, '# enrolled\nGATEWAY_RELAY_ID=gw-1\nGATEWAY_RELAY_URL https://relay.example.com\n', {
    mode: 0o600,
  });
  const child = spawnCli(t, ['run', '--env-path', file], { SIDECAR_PLUGINS: PLUGINS });
  t.is((await child.waitExit()).code, 2);
  t.regex(child.stderr(), /^run: CORE_ERR_CONFIG_INVALID: env file .*relay\.env line 3 is not KEY=value/m);
  t.false(child.stderr().includes('relay.example.com'));
});

test('a too short SIDECAR_API_TOKEN is refused saying how to make one, never echoing it', async (t) => {
  const child = spawnCli(t, ['run'], {
    GATEWAY_RELAY_URL: 'http://127.0.0.1:1',
    SIDECAR_API_TOKEN: 'short-tok',
    SIDECAR_PLUGINS: PLUGINS,
    SIDECAR_DATA_DIR: tempDir(t),
  });
  t.is((await child.waitExit()).code, 2);
  t.regex(
    child.stderr(),
    /api\.token \(SIDECAR_API_TOKEN\): must be at least 16 characters: make one with `openssl rand -hex 32`, or unset it/,
  );
  t.false(child.stderr().includes('short-tok'));
});

test('run and doctor warn of a GATEWAY_RELAY_BOT_IDS entry a slip from a listed platform, never its bot id', async (t) => {
  // spec/config.md: the platform starts with botId "" (a missing entry); the slip is said, not refused
  const env = {
    SIDECAR_DATA_DIR: tempDir(t),
    SIDECAR_PLUGINS: PLUGINS,
    GATEWAY_RELAY_PLATFORMS: 'discord',
    GATEWAY_RELAY_BOT_IDS: '{"dicsord":{"botId":"987654321"}}',
  };
  const run = spawnCli(t, ['run'], env);
  t.is((await run.waitExit()).code, 2, 'refused for the missing URL, not for the entry');
  const said =
    /^run: warning: GATEWAY_RELAY_BOT_IDS entry "dicsord" is no platform of GATEWAY_RELAY_PLATFORMS: did you mean "discord"\?/m;
  t.regex(run.stderr(), said);
  t.notRegex(run.stderr(), /CORE_ERR_CONFIG_BOT_IDS_MALFORMED/);
  const doctor = spawnCli(t, ['doctor', '--timeout-ms', '500'], env);
  await doctor.waitExit();
  t.regex(
    doctor.stdout(),
    /^! env — GATEWAY_RELAY_BOT_IDS entry "dicsord" .*Fix: rename the entry "discord"$/m,
  );
  t.false(`${run.stderr()}${doctor.stdout()}`.includes('987654321'));
});

test('run and doctor refuse a GATEWAY_RELAY_WAKE_URL or GATEWAY_RELAY_ENDPOINT that is no http(s) URL, never echoing it', async (t) => {
  // was: any string loaded and went to the connector with enroll/provision
  const env = {
    GATEWAY_RELAY_URL: 'http://127.0.0.1:1',
    SIDECAR_PLUGINS: PLUGINS,
    SIDECAR_DATA_DIR: tempDir(t),
    GATEWAY_RELAY_WAKE_URL: 'admin:hunter2@gw.example.com/wake',
    GATEWAY_RELAY_ENDPOINT: 'gw.example.com/relay?token=hunter2',
  };
  const run = spawnCli(t, ['run'], env);
  t.is((await run.waitExit()).code, 2);
  const err = run.stderr();
  t.regex(err, /^run: CORE_ERR_CONFIG_INVALID: invalid configuration:$/m);
  t.regex(
    err,
    /relay\.wakeUrl \(GATEWAY_RELAY_WAKE_URL\): must be an absolute http\(s\):\/\/ URL with a host/,
  );
  t.regex(
    err,
    /relay\.endpoint \(GATEWAY_RELAY_ENDPOINT\): must be an absolute http\(s\):\/\/ URL with a host/,
  );
  const doctor = spawnCli(t, ['doctor', '--timeout-ms', '500'], env);
  t.is((await doctor.waitExit()).code, 2);
  t.regex(
    doctor.stdout(),
    /^✗ config — CORE_ERR_CONFIG_INVALID: .*relay\.wakeUrl \(GATEWAY_RELAY_WAKE_URL\): must be/m,
  );
  for (const part of ['hunter2', 'admin', 'gw.example.com'])
    t.false(`${err}${doctor.stdout()}${doctor.stderr()}`.includes(part), part);
});
