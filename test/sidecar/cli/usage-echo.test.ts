/**
 * A usage error names what was wrong, never the value typed with it: `run --api-token=<token>`
 * (no such option) echoed the whole `--api-token=<token>` to stderr, which a supervisor's journal
 * keeps (real CLI child processes).
 */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { cliPath } from '../../helpers/sidecar-process.js';
import { runBuiltCli } from './cli-child.js';

const SECRET = 'usage-secret-0123456789abcdef';

function cli(args: string[]): { status: number | null; text: string } {
  const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, text: `${r.stdout}${r.stderr}` };
}

test('an unknown option given with =value is named without its value, and the usage hint follows', (t) => {
  for (const args of [
    ['run', `--api-token=${SECRET}`],
    ['token', `--secret=${SECRET}`],
    ['dead-letters', 'list', `--token=${SECRET}`],
  ]) {
    const { status, text } = cli(args);
    t.is(status, ExitCode.CONFIG, text);
    t.false(text.includes(SECRET), text);
    t.regex(text, /unknown option '--[a-z-]+=…'/);
    t.regex(text, /run with --help for usage/);
  }
  // a value holding a quote, where the quoted argument seemed to end: only its start was cut
  const quoted = cli(['run', `--api-token=abc'${SECRET}`]);
  t.false(quoted.text.includes(SECRET), quoted.text);
  t.regex(quoted.text, /unknown option '--api-token=…'/);
  // a misspelt option still gets its suggestion
  t.regex(cli(['enroll', '--tokn', SECRET]).text, /Did you mean --token\?/);
});

/** A pasted credential: mixed case and digits, as tokens are. */
const PASTED = 'Xk9pasted4Tok3nQ0zLm7';

test('no usage error echoes an argument: unknown command, unknown option, excess arguments (built CLI child)', async (t) => {
  const env = { PATH: process.env.PATH ?? '' };
  const cases: [args: string[], said: RegExp][] = [
    [[PASTED], /unknown command/],
    [['dead-letters', PASTED], /unknown command/],
    [[`it's ${PASTED}\nsecond line`], /unknown command/],
    [[`-${PASTED}`], /unknown option/],
    [['run', `-X${PASTED}`], /unknown option/],
    [['run', `--${PASTED}`], /unknown option/],
    [['run', PASTED], /too many arguments for 'run'/],
    [['dead-letters', 'list', PASTED], /too many arguments for 'list'/],
  ];
  for (const [args, said] of cases) {
    const { code, out, err } = await runBuiltCli(args, process.cwd(), env);
    const text = `${out}${err}`;
    t.is(code, ExitCode.CONFIG, text);
    t.false(text.includes(PASTED), text);
    t.false(text.includes('second line'), text);
    t.regex(text, said, text);
    t.regex(text, /run with --help for usage/, text);
  }
  // a typo of a command is still named, with its suggestion: a lowercase word is no credential
  const typo = await runBuiltCli(['rnu'], process.cwd(), env);
  t.regex(typo.err, /unknown command 'rnu'\n\(Did you mean run\?\)/);
  // a hidden argument is said to be hidden, so the operator knows why it is not shown
  const hidden = await runBuiltCli([PASTED], process.cwd(), env);
  t.regex(
    hidden.err,
    /unknown command '…' \(21 characters\)\n\(the argument is not repeated: it may hold a credential\)/,
  );
});

test('a lowercase passphrase typed as a command or a stray word is said by its length; a typo of a name is shown (built CLI child)', async (t) => {
  const env = { PATH: process.env.PATH ?? '' };
  // lowercase words of up to 32 characters were shown as names, and a passphrase is one
  const phrase = 'correcthorsebatterystaple';
  for (const [args, said] of [
    [[phrase], /unknown command '…' \(25 characters\)\n\(the argument is not repeated/],
    [['dead-letters', 'correct-horse'], /unknown command '…' \(13 characters\)/],
    [['run', phrase], /too many arguments for 'run'/],
    [['enroll', '--tokn', phrase], /unknown option '--tokn'\n\(Did you mean --token\?\)/],
    // a short option's letter with the passphrase against it, quoted whole by commander
    [['run', `-x${phrase}`], /unknown option '…' \(27 characters\)/],
  ] as [string[], RegExp][]) {
    const { code, err } = await runBuiltCli(args, process.cwd(), env);
    t.is(code, ExitCode.CONFIG, err);
    t.false(err.includes('correct'), err);
    t.regex(err, said, err);
  }
  // a known name, or a word commander suggests one for, is shown: the operator sees the typo
  for (const [args, said] of [
    [['rnu'], /unknown command 'rnu'\n\(Did you mean run\?\)/],
    [['runs'], /unknown command 'runs'\n\(Did you mean run\?\)/],
    [['dead-letters', 'lst'], /unknown command 'lst'\n\(Did you mean list\?\)/],
    [['dead-letters', 'replya'], /unknown command 'replya'\n\(Did you mean replay\?\)/],
    [['enroll', '-tokn'], /unknown option '-tokn'/],
  ] as [string[], RegExp][]) {
    const { err } = await runBuiltCli(args, process.cwd(), env);
    t.regex(err, said, err);
    t.false(err.includes('not repeated'), err);
  }
});
