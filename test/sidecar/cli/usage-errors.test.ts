/**
 * Commander's other usage errors repeat no argument either (usage-errors.ts): an invalid choice of
 * an option or of an argument, an invalid value from the environment. No command of the CLI has
 * choices yet, so a real commander program with them is built here with the CLI's output setting.
 */
import test from 'ava';
import { Command, Option } from 'commander';
import { commandNames, HIDDEN_NOTE, usageErrorText } from '../../../sidecar/cli/usage-errors.js';

const PASTED = 'Xk9pasted4Tok3nQ0zLm7';

/** What `args` makes such a program print to stderr. */
function stderrOf(args: string[]): string {
  const argv = ['node', 'cli', ...args];
  let err = '';
  const program = new Command('cli').exitOverride().configureOutput({
    writeOut: () => undefined,
    writeErr: (s) => {
      err += s;
    },
    outputError: (s, write) => write(usageErrorText(s, argv, commandNames(program))),
  });
  program
    .command('pick')
    .addOption(new Option('--mode <mode>').choices(['fast', 'safe']))
    .argument('[kind]', 'kind', (value: string) => {
      if (value !== 'a') throw new Error('never');
      return value;
    })
    .action(() => undefined);
  program
    .command('level')
    .argument('<level>')
    .addOption(new Option('--level <n>').choices(['1', '2']));
  try {
    program.parse(argv);
  } catch {
    // the CommanderError of exitOverride: its text went to stderr
  }
  return err;
}

test('an invalid choice names the option and the allowed values, not the value typed', (t) => {
  const err = stderrOf(['pick', '--mode', PASTED]);
  t.false(err.includes(PASTED), err);
  t.regex(
    err,
    /option '--mode <mode>' argument '…' \(21 characters\) is invalid\. Allowed choices are fast, safe\./,
  );
  t.true(err.includes(HIDDEN_NOTE));
});

test('an option given with =value, and a short invalid value, are not repeated either', (t) => {
  // commander takes the value out of `--mode=<value>` (or `-m<value>`) and quotes it alone
  const long = stderrOf(['pick', `--mode=${PASTED}`]);
  t.false(long.includes(PASTED), long);
  t.regex(long, /option '--mode <mode>' argument '…' \(21 characters\) is invalid/);
  const short = stderrOf(['level', 'x', '--level', 'Q9']);
  t.false(short.includes("'Q9'"), short);
  t.regex(short, /option '--level <n>' argument '…' \(2 characters\) is invalid/);
});

test('a misspelt option name is still named: a one-letter short option, a long one in camel case', (t) => {
  // no credential is one letter, or letters alone after `--`; the operator needs the name to fix it
  for (const typo of ['-Z', '-M', '--dataDir', '--Mode']) {
    const err = stderrOf(['pick', typo, 'fast']);
    t.regex(err, new RegExp(`unknown option '${typo}'`), err);
    t.false(err.includes(HIDDEN_NOTE), err);
  }
  // digits after `--`, or more after a short option's letter, may be a pasted token: hidden
  t.false(stderrOf(['pick', `--${PASTED}`]).includes(PASTED));
  t.false(stderrOf(['pick', `-Z${PASTED}`]).includes(PASTED));
});

test('a lowercase word typed against a short option is not repeated; a long option typed with one dash is', (t) => {
  // commander quotes `-z<value>` whole: a passphrase after a short option's letter was shown as a name
  const phrase = 'correcthorsebatterystaple';
  for (const typed of [`-z${phrase}`, `-m${phrase}`]) {
    const err = stderrOf(['pick', typed]);
    t.false(err.includes('correct'), err);
    t.regex(err, /unknown option '…' \(27 characters\)/, err);
  }
  // one dash for two, or a typo of an option's name: the operator sees what to fix
  for (const typo of ['-mode', '-mdoe']) {
    const err = stderrOf(['pick', typo, 'fast']);
    t.regex(err, new RegExp(`unknown option '${typo}'`), err);
    t.false(err.includes(HIDDEN_NOTE), err);
  }
});
