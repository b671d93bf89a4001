/**
 * A usage error names what was wrong, never the value typed with it: `run --api-token=<token>`
 * (no such option) echoed the whole `--api-token=<token>` to stderr, which a supervisor's journal
 * keeps (real CLI child processes).
 */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { cliPath } from '../../helpers/sidecar-process.js';

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
