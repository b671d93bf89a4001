import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { verifyToken } from '../../../core/transport/auth-token.js';
import { parseEnvText } from '../../../sidecar/cli/env-file.js';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { buildProgram, main } from '../../../sidecar/cli/main.js';
import { connector } from '../side-routes/loopback.js';
import { CLI, runBuiltCli } from './cli-child.js';
import { testIo } from './cli-harness.js';

const IDENTITY = 'identity-token-child-31337';
const ENROLL = 'enrol-token-child-4242';

/** The parent's environment minus every relay/sidecar variable, so the child sees only what we pass. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(GATEWAY_RELAY_|SIDECAR_|AGENT_|LOG_)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Run the built CLI as a real child process (async: the test's connector lives in this process). */
function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()) {
  return runBuiltCli(args, cwd, env);
}

test('the built CLI enrols as a child process into a new --env-path, then `token --env-path` mints a verifiable token', async (t) => {
  const c = await connector(t, { identityTokens: [IDENTITY], enrollmentTokens: [ENROLL] });
  const { cwd } = testIo(t);
  // a file that does not exist yet: Node 20 takes a `--env-file` after the script name for its own
  // flag and exits 9 on a missing file, which is why the option is --env-path
  const enrolled = await runCli(
    [
      'enroll',
      '--token',
      ENROLL,
      '--gateway-id',
      'gw-child',
      '--connector-url',
      c.base,
      '--env-path',
      '.env.relay',
    ],
    cwd,
    cleanEnv({ GATEWAY_RELAY_IDENTITY_TOKEN: IDENTITY }),
  );
  t.is(enrolled.code, ExitCode.OK, enrolled.err);
  const envPath = join(cwd, '.env.relay');
  t.is(statSync(envPath).mode & 0o777, 0o600);
  const secret = c.routes.secretsFor('gw-child')[0]!;
  t.is(parseEnvText(readFileSync(envPath, 'utf8')).GATEWAY_RELAY_SECRET, secret);
  for (const s of [secret, IDENTITY, ENROLL]) t.false((enrolled.out + enrolled.err).includes(s));

  const minted = await runCli(['token', '--env-path', '.env.relay'], cwd);
  t.is(minted.code, ExitCode.OK, minted.err);
  const v = verifyToken(minted.out.trim(), [secret], Date.now() / 1000);
  t.true(v.ok && v.payload === 'gw-child');
  t.regex(minted.err, /credential/);
});

test('the built CLI: a 403 exits 4, a usage error exits 2, --help exits 0', async (t) => {
  const c = await connector(t, { enrollmentTokens: [] });
  const { cwd } = testIo(t);
  const refused = await runCli(
    ['enroll', '--token', 'x', '--gateway-id', 'g', '--connector-url', c.base, '--identity-token', 'i'],
    cwd,
  );
  t.is(refused.code, ExitCode.AUTH);
  t.regex(refused.err, /403/);
  t.is((await runCli(['enroll', '--no-such-flag'], cwd)).code, ExitCode.CONFIG);
  const help = await runCli(['--help'], cwd);
  t.is(help.code, ExitCode.OK);
  t.regex(help.out, /enroll/);
  t.regex(help.out, /token/);
});

test('main() in-process: --version exits 0, unknown command exits 2', async (t) => {
  const io = testIo(t);
  t.is(await main(['node', 'relay-sidecar', '--version'], io), ExitCode.OK);
  t.regex(io.out, /^\d+\.\d+\.\d+/);
  t.is(await main(['node', 'relay-sidecar', 'frobnicate'], testIo(t)), ExitCode.CONFIG);
});

test('buildProgram exposes every command, and others can add commands', (t) => {
  const program = buildProgram(testIo(t));
  t.deepEqual(program.commands.map((c) => c.name()).sort(), [
    'connector',
    'dead-letters',
    'demo',
    'doctor',
    'enroll',
    'run',
    'token',
  ]);
  program.command('extra').action(() => {});
  t.is(program.commands.length, 8);
});

test('every command and subcommand says what it does in --help', (t) => {
  const program = buildProgram(testIo(t));
  const all = (c: typeof program): (typeof program)[] => c.commands.flatMap((sub) => [sub, ...all(sub)]);
  // was: dead-letters list, show and replay listed bare, with no line on what they do
  const bare = all(program)
    .filter((c) => c.description().trim() === '')
    .map((c) => c.name());
  t.deepEqual(bare, []);
});

test('a reader that stops early (`doctor | head -1`) ends the command quietly with its own exit code', async (t) => {
  // the read end of stdout is closed before the child writes: every write fails with EPIPE
  const cwd = testIo(t).cwd;
  const child = spawn(process.execPath, [CLI, 'doctor'], {
    cwd,
    env: cleanEnv({ AGENT_MODE: 'sideways' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  // was: "Error: write EPIPE" with a stack trace on stderr, exit 1
  t.is(err, '');
  t.is(code, ExitCode.CONFIG);
});
