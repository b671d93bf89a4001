/**
 * `--help` is all an operator may have: the top level names the exit codes a supervisor acts on
 * and where every setting is documented; a bounded option names its bounds.
 */
import test from 'ava';
import { main } from '../../../sidecar/cli/main.js';
import { testIo } from './cli-harness.js';

test('relay-sidecar --help lists every exit code and where the settings are documented', async (t) => {
  const io = testIo(t);
  t.is(await main(['node', 'relay-sidecar', '--help'], io), 0);
  for (const code of [
    '0 clean stop',
    '1 unexpected',
    '2 bad configuration',
    '3 revoked',
    '4 auth',
    '5 unreachable',
    '6 no such dead letter',
  ])
    t.true(io.out.replace(/\s+/g, ' ').includes(code), code);
  t.regex(io.out, /docs\/config\.md/);
});

test('dead-letters list --help names the bounds of --limit', async (t) => {
  const io = testIo(t);
  t.is(await main(['node', 'relay-sidecar', 'dead-letters', 'list', '--help'], io), 0);
  t.regex(io.out.replace(/\s+/g, ' '), /-n, --limit <n> how many, newest first, 1 to 500 \(default: "50"\)/);
});
