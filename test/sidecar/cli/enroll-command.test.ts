import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { type EnrollOptions, runEnroll } from '../../../sidecar/cli/enroll-command.js';
import { parseEnvText } from '../../../sidecar/cli/env-file.js';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { closedPort, connector, scripted } from '../side-routes/loopback.js';
import { testIo } from './cli-harness.js';

const IDENTITY = 'identity-token-cli-5150';
const ENROLL = 'enrol-token-cli-8080';

function opts(url: string, extra: EnrollOptions = {}): EnrollOptions {
  return {
    token: ENROLL,
    gatewayId: 'gw-cli',
    connectorUrl: url,
    identityToken: IDENTITY,
    timeoutMs: 5_000,
    ...extra,
  };
}

test('enrols, writes a 0600 env file merged with existing lines, and never prints a secret', async (t) => {
  const c = await connector(t, { identityTokens: [IDENTITY], enrollmentTokens: [ENROLL] });
  const io = testIo(t);
  const envPath = join(io.cwd, '.env.relay');
  writeFileSync(envPath, '# mine\nAGENT_URL=http://127.0.0.1:9/x\nGATEWAY_RELAY_SECRET=stale\n', {
    mode: 0o644,
  });
  const code = await runEnroll(opts(c.base, { wakeUrl: 'https://wake.example/w' }), io);
  t.is(code, ExitCode.OK, io.err);
  const text = readFileSync(envPath, 'utf8');
  const env = parseEnvText(text);
  const secret = c.routes.secretsFor('gw-cli')[0]!;
  t.is(env.GATEWAY_RELAY_ID, 'gw-cli');
  t.is(env.GATEWAY_RELAY_SECRET, secret);
  t.regex(env.GATEWAY_RELAY_DELIVERY_KEY ?? '', /^[0-9a-f]{64}$/);
  t.is(env.GATEWAY_RELAY_URL, c.base);
  t.is(env.GATEWAY_RELAY_WAKE_URL, 'https://wake.example/w');
  t.is(env.AGENT_URL, 'http://127.0.0.1:9/x');
  t.true(text.startsWith('# mine\n'));
  t.is(statSync(envPath).mode & 0o777, 0o600);
  const printed = io.out + io.err;
  for (const s of [secret, env.GATEWAY_RELAY_DELIVERY_KEY!, IDENTITY, ENROLL]) t.false(printed.includes(s));
  t.regex(io.out, /GATEWAY_RELAY_SECRET=<hidden, 64 chars>/);
  t.regex(io.out, /GATEWAY_RELAY_ID=gw-cli/);
});

test('the loading hint offers docker --env-file only when no value was written in quotes', async (t) => {
  const c = await connector(t, { identityTokens: [IDENTITY], enrollmentTokens: [ENROLL] });
  const bare = testIo(t);
  t.is(await runEnroll(opts(c.base, { envPath: 'bare.env' }), bare), ExitCode.OK, bare.err);
  t.regex(bare.out, /systemd EnvironmentFile=, docker --env-file, `set -a/);
  // a wake URL with a query is single-quoted in the file, which docker --env-file keeps literally
  const quoted = testIo(t);
  const wakeUrl = 'https://wake.example/w?k=1&z=2';
  const c2 = await connector(t, { identityTokens: [IDENTITY], enrollmentTokens: [ENROLL] });
  t.is(await runEnroll(opts(c2.base, { wakeUrl, envPath: 'q.env' }), quoted), ExitCode.OK, quoted.err);
  t.regex(readFileSync(join(quoted.cwd, 'q.env'), 'utf8'), /^GATEWAY_RELAY_WAKE_URL='https:\/\/wake/m);
  // was: "docker --env-file" offered for this file too, and the container got the quotes in the value
  t.notRegex(quoted.out, /EnvironmentFile=, docker --env-file/);
  t.regex(
    quoted.out,
    /docker --env-file keeps quotes as part of the value: pass GATEWAY_RELAY_WAKE_URL with -e instead/,
  );
});

test('flags fall back to the env variables of config.md; --env-path picks the path', async (t) => {
  const c = await connector(t);
  const io = testIo(t, {
    GATEWAY_RELAY_ENROLL_TOKEN: ENROLL,
    GATEWAY_RELAY_ID: 'gw-env',
    GATEWAY_RELAY_URL: `${c.base.replace('http', 'ws')}/relay`,
    GATEWAY_RELAY_IDENTITY_TOKEN: IDENTITY,
  });
  mkdirSync(join(io.cwd, 'conf'));
  t.is(await runEnroll({ envPath: 'conf/relay.env', timeoutMs: 5_000 }, io), ExitCode.OK, io.err);
  t.is(parseEnvText(readFileSync(join(io.cwd, 'conf/relay.env'), 'utf8')).GATEWAY_RELAY_ID, 'gw-env');
  t.is(c.routes.calls[0]?.gatewayId, 'gw-env');
});

test('missing inputs exit 2 naming every missing flag, with no request made', async (t) => {
  const c = await connector(t);
  const io = testIo(t);
  t.is(await runEnroll({ connectorUrl: c.base }, io), ExitCode.CONFIG);
  for (const flag of ['--token', '--gateway-id', '--identity-token']) t.true(io.err.includes(flag));
  t.is(c.routes.calls.length, 0);
});

test('a bad connector URL exits 2, naming where it came from', async (t) => {
  const io = testIo(t);
  t.is(await runEnroll(opts('ftp://x'), io), ExitCode.CONFIG);
  t.regex(io.err, /--connector-url must be an absolute/);
  const fromEnv = testIo(t, { GATEWAY_RELAY_URL: 'ftp://x' });
  t.is(await runEnroll({ ...opts(''), connectorUrl: undefined }, fromEnv), ExitCode.CONFIG);
  t.regex(fromEnv.err, /\(GATEWAY_RELAY_URL\): must be an absolute/);
});

test('a --wake-url that is no http(s) URL exits 2 naming the flag, before the token is spent, never echoing it', async (t) => {
  // was: any string went to the connector in the enroll body and into the env file, where the
  // next start refused it (GATEWAY_RELAY_WAKE_URL) with the token already spent
  const c = await connector(t, { identityTokens: [IDENTITY], enrollmentTokens: [ENROLL] });
  for (const wakeUrl of ['admin:hunter2@gw.example.com/wake', 'ftp://gw.example.com/wake', '']) {
    const io = testIo(t);
    t.is(await runEnroll(opts(c.base, { wakeUrl }), io), ExitCode.CONFIG, wakeUrl);
    t.regex(io.err, /^enroll: --wake-url must be an absolute http\(s\):\/\/ URL with a host/, wakeUrl);
    for (const part of ['hunter2', 'admin', 'gw.example.com']) t.false(io.err.includes(part), part);
  }
  t.is(c.routes.calls.length, 0);
});

test('the URLs written are shown without their user info or query, which may carry a credential', async (t) => {
  // was: printed as written, e.g. a wake URL's query token on the terminal and in CI logs
  const c = await connector(t, { identityTokens: [IDENTITY], enrollmentTokens: [ENROLL] });
  const io = testIo(t);
  // side routes refuse user info in the connector URL; a query is kept
  const base = `${c.base}?key=relaytoken`;
  const wakeUrl = 'https://waker:wakepass@wake.example/w?token=waketoken';
  t.is(await runEnroll(opts(base, { wakeUrl }), io), ExitCode.OK, io.err);
  const env = parseEnvText(readFileSync(join(io.cwd, '.env.relay'), 'utf8'));
  t.is(env.GATEWAY_RELAY_WAKE_URL, wakeUrl, 'the file keeps them');
  t.is(env.GATEWAY_RELAY_URL, base);
  t.regex(
    io.out,
    /^ {2}GATEWAY_RELAY_WAKE_URL=https:\/\/wake\.example\/w \(user info, query and fragment not shown\)$/m,
  );
  t.regex(
    io.out,
    /^ {2}GATEWAY_RELAY_URL=http:\/\/127\.0\.0\.1:\d+\/ \(user info, query and fragment not shown\)$/m,
  );
  for (const s of ['relayuser', 'relaypass', 'waker', 'wakepass', 'waketoken'])
    t.false(io.out.includes(s), s);
  const plain = testIo(t);
  const c2 = await connector(t, { identityTokens: [IDENTITY], enrollmentTokens: [ENROLL] });
  t.is(await runEnroll(opts(c2.base, { wakeUrl: 'https://wake.example/w' }), plain), ExitCode.OK, plain.err);
  t.regex(plain.out, /^ {2}GATEWAY_RELAY_WAKE_URL=https:\/\/wake\.example\/w$/m);
});

test('a URL written is shown without its fragment, which may carry a credential too', async (t) => {
  // was: shown as written when it had no user info or query, e.g. a signed wake URL's `#sig=`
  const c = await connector(t, { identityTokens: [IDENTITY], enrollmentTokens: [ENROLL] });
  const io = testIo(t);
  const wakeUrl = 'https://wake.example/w#sig=wakesignature';
  t.is(await runEnroll(opts(c.base, { wakeUrl }), io), ExitCode.OK, io.err);
  t.is(parseEnvText(readFileSync(join(io.cwd, '.env.relay'), 'utf8')).GATEWAY_RELAY_WAKE_URL, wakeUrl);
  t.regex(
    io.out,
    /^ {2}GATEWAY_RELAY_WAKE_URL=https:\/\/wake\.example\/w \(user info, query and fragment not shown\)$/m,
  );
  t.false(io.out.includes('wakesignature'));
});

test('an unwritable env file exits 2 before the single-use token is spent', async (t) => {
  const c = await connector(t);
  const io = testIo(t);
  t.is(await runEnroll(opts(c.base, { envPath: 'no/such/dir/.env' }), io), ExitCode.CONFIG);
  t.is(c.routes.calls.length, 0);
});

test('401 and 403 exit 4; nothing is written', async (t) => {
  const c = await connector(t, { identityTokens: ['other'] });
  const io = testIo(t);
  t.is(await runEnroll(opts(c.base), io), ExitCode.AUTH);
  t.regex(io.err, /401/);
  const c2 = await connector(t, { enrollmentTokens: [] });
  const io2 = testIo(t);
  t.is(await runEnroll(opts(c2.base), io2), ExitCode.AUTH);
  t.regex(io2.err, /403/);
  t.throws(() => statSync(join(io2.cwd, '.env.relay')));
});

test('unreachable, timeout and 503 exit 5; other statuses exit 4', async (t) => {
  const io = testIo(t);
  t.is(await runEnroll(opts(`http://127.0.0.1:${await closedPort()}`), io), ExitCode.UNREACHABLE);
  // the failure reads once as what failed, then why (not 'enrolment failed: enroll: …')
  t.regex(io.err, /enrolment failed: cannot reach the connector at http:\/\/127\.0\.0\.1:\d+/);
  const slow = await scripted(t, () => 'hang');
  t.is(await runEnroll(opts(slow.base, { timeoutMs: 50 }), testIo(t)), ExitCode.UNREACHABLE);
  const busy = await scripted(t, () => ({ status: 503, body: { error: 'maintenance' } }));
  t.is(await runEnroll(opts(busy.base), testIo(t)), ExitCode.UNREACHABLE);
  const teapot = await scripted(t, () => ({ status: 418, body: { error: 'teapot' } }));
  const io4 = testIo(t);
  t.is(await runEnroll(opts(teapot.base), io4), ExitCode.AUTH);
  t.regex(io4.err, /HTTP 418: teapot/);
});

test('a cross-host redirect exits 2 and the identity token never reaches the other host', async (t) => {
  const other = await scripted(t, () => ({ status: 200, body: {} }));
  const first = await scripted(t, () => ({
    status: 301,
    headers: { location: `${other.base}/relay/enroll` },
  }));
  t.is(await runEnroll(opts(first.base), testIo(t)), ExitCode.CONFIG);
  t.is(other.seen.length, 0);
});
