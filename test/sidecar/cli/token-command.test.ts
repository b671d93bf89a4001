import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { verifyToken } from '../../../core/transport/auth-token.js';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { runToken } from '../../../sidecar/cli/token-command.js';
import { testIo } from './cli-harness.js';

const NOW_MS = 1_754_700_000_000;
const SECRET = 'token-secret-0123456789';

test('prints only a token on stdout that verifies for the gateway id, with the default ttl', (t) => {
  const io = testIo(t, { GATEWAY_RELAY_ID: 'gw-t', GATEWAY_RELAY_SECRET: SECRET }, NOW_MS);
  t.is(runToken({}, io), ExitCode.OK);
  t.regex(io.out, /^[A-Za-z0-9_-]+\n$/);
  const v = verifyToken(io.out.trim(), [SECRET], NOW_MS / 1000);
  t.true(v.ok);
  if (v.ok) {
    t.is(v.payload, 'gw-t');
    t.is(v.exp, NOW_MS / 1000 + 300);
  }
  t.regex(io.err, /credential/);
  t.regex(io.err, /300 seconds/);
  t.false(io.err.includes(SECRET));
});

test('--ttl sets the lifetime; out-of-range values exit 2', (t) => {
  const env = { GATEWAY_RELAY_ID: 'gw-t', GATEWAY_RELAY_SECRET: SECRET };
  const io = testIo(t, env, NOW_MS);
  t.is(runToken({ ttl: '60' }, io), ExitCode.OK);
  const v = verifyToken(io.out.trim(), [SECRET], NOW_MS / 1000);
  t.true(v.ok && v.exp === NOW_MS / 1000 + 60);
  for (const ttl of ['0', '-5', '1.5', 'abc', '86401']) {
    const bad = testIo(t, env, NOW_MS);
    t.is(runToken({ ttl }, bad), ExitCode.CONFIG, ttl);
    t.is(bad.out, '');
  }
});

test('missing id or secret exits 2 with a clear message and no output', (t) => {
  const envs: Record<string, string>[] = [{}, { GATEWAY_RELAY_ID: 'gw' }, { GATEWAY_RELAY_SECRET: SECRET }];
  for (const env of envs) {
    const io = testIo(t, env);
    t.is(runToken({}, io), ExitCode.CONFIG);
    t.is(io.out, '');
    t.regex(io.err, /GATEWAY_RELAY_ID and GATEWAY_RELAY_SECRET/);
  }
});

test('--env-path supplies the credentials and wins over the process environment', (t) => {
  const io = testIo(t, { GATEWAY_RELAY_ID: 'stale', GATEWAY_RELAY_SECRET: 'stale-secret' }, NOW_MS);
  writeFileSync(join(io.cwd, '.env.relay'), `GATEWAY_RELAY_ID=gw-file\nGATEWAY_RELAY_SECRET=${SECRET}\n`);
  t.is(runToken({ envPath: '.env.relay' }, io), ExitCode.OK);
  const v = verifyToken(io.out.trim(), [SECRET], NOW_MS / 1000);
  t.true(v.ok && v.payload === 'gw-file');
  const missing = testIo(t);
  t.is(runToken({ envPath: 'nope.env' }, missing), ExitCode.CONFIG);
});

test('an invalid config exits 2 without echoing secrets', (t) => {
  const io = testIo(t, { GATEWAY_RELAY_ID: 'gw', GATEWAY_RELAY_SECRET: SECRET, LOG_LEVEL: 'loud' });
  t.is(runToken({}, io), ExitCode.CONFIG);
  t.regex(io.err, /LOG_LEVEL/);
  t.false(io.err.includes(SECRET));
});

test('-c reads the sidecar config file as run does: its gateway id and token lifetime (the secret from the environment)', (t) => {
  const io = testIo(t, { GATEWAY_RELAY_SECRET: SECRET }, NOW_MS);
  const file = join(io.cwd, 'sidecar.json');
  writeFileSync(file, JSON.stringify({ relay: { gatewayId: 'gw-file', tokenTtlS: 120 } }), { mode: 0o600 });
  t.is(runToken({ config: file }, io), ExitCode.OK, io.err);
  const v = verifyToken(io.out.trim(), [SECRET], NOW_MS / 1000);
  t.true(v.ok && v.payload === 'gw-file' && v.exp === NOW_MS / 1000 + 120, io.out);
  // a config file that is not there is a config error, exit 2
  const missing = testIo(t, { GATEWAY_RELAY_SECRET: SECRET }, NOW_MS);
  t.is(runToken({ config: join(missing.cwd, 'nope.yaml') }, missing), ExitCode.CONFIG);
  t.is(missing.out, '');
});
