/**
 * A usage error as the CLI prints it: what was wrong and the pointer to `--help`, never what was
 * typed. Commander quotes the argument it refused (`unknown command '<arg>'`, `unknown option
 * '<flag>'`, an invalid value), and an argument may be a credential pasted in the wrong place
 * (`relay-sidecar <token>`, `run --api-token=<token>`), which a supervisor's journal then keeps.
 *
 * A word typed where a command or a value was expected is shown only when it is a known command
 * name or a typo of one (what commander's "Did you mean" would take: `rnu`, `lst`); any other is
 * said by its length alone (`unknown command '…' (25 characters)`). Lowercase words of up to 32
 * characters were shown as names, and a passphrase (`correcthorsebatterystaple`) is one. An
 * option keeps its name shown (`--tokn`, `-Z`): it is typed with its dashes, as a name; but more
 * after a short option's letter is a value typed against it (`-pcorrecthorse`), shown only when it
 * is a long option's name typed with one dash or a typo of one (`-token`). Pure, tested through
 * the built CLI.
 */
import type { Command } from 'commander';

/** What a hidden argument becomes in a usage error. */
const HIDDEN = '…';

/** The line added when an argument was hidden, so the operator knows why it is not shown. */
export const HIDDEN_NOTE = '(the argument is not repeated: it may hold a credential)';

/**
 * An argument shown as typed: a command or option name (`rnu`, `--tokn`), lowercase words joined by
 * hyphens. A token mixes case or digits, or is longer.
 */
const NAME_LIKE = /^-{0,2}[a-z]+(?:-[a-z]+)*$/;
/**
 * An option name shown as typed though it is not {@link NAME_LIKE}: one letter or digit after `-`
 * (`-C` for `-c`), letters alone after `--` (`--dataDir` for `--data-dir`). No credential is one
 * character, and a token has digits; hidden, the operator could not tell which option to fix.
 */
const OPTION_LIKE = /^(?:-[A-Za-z0-9]|--[A-Za-z]+(?:-[A-Za-z]+)*)$/;
/** Longest argument shown as typed, characters. */
const MAX_NAME_CHARS = 32;

/**
 * Edits within which a typed word is a typo of a known name, and the share of it that must be
 * kept: commander's own bounds for its "Did you mean" (suggestSimilar.js), so that every word
 * it suggests a name for is shown, and no word far from all names (a passphrase) is.
 */
const MAX_EDITS = 2;
const MIN_SIMILARITY = 0.4;

/** Optimal string alignment distance (a swap of two neighbours is one edit), up to {@link MAX_EDITS} + 1. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > MAX_EDITS) return MAX_EDITS + 1;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) (d[0] as number[])[j] = j;
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** Whether `word` is one of `names` or a typo of one ({@link MAX_EDITS}, {@link MIN_SIMILARITY}). */
export function nearName(word: string, names: readonly string[]): boolean {
  return names.some((name) => {
    const distance = editDistance(word, name);
    const length = Math.max(word.length, name.length);
    return distance <= MAX_EDITS && (length - distance) / length > MIN_SIMILARITY;
  });
}

/**
 * The names of `program`'s commands at every level, their aliases and `help`; and its long
 * options' names at every level, with their dashes (`--token`).
 */
export function commandNames(program: Command): string[] {
  const names = ['help'];
  const walk = (command: Command) => {
    for (const option of command.options) if (option.long) names.push(option.long);
    for (const sub of command.commands) {
      names.push(sub.name(), ...sub.aliases());
      walk(sub);
    }
  };
  walk(program);
  return names;
}

/**
 * Whether `arg` is shown as typed: an option name ({@link NAME_LIKE}, {@link OPTION_LIKE}), or a
 * word that is a known command name or a typo of one ({@link nearName}). `names` as
 * {@link commandNames} gives them.
 */
function shownAsTyped(arg: string, names: readonly string[]): boolean {
  if (arg.length === 0) return true;
  if (arg.length > MAX_NAME_CHARS) return false;
  if (!arg.startsWith('-')) return NAME_LIKE.test(arg) && nearName(arg, commandsOf(names));
  if (!NAME_LIKE.test(arg) && !OPTION_LIKE.test(arg)) return false;
  // `-p<value>`: a short option's letter and a value typed against it, which commander quotes
  // whole (`-pcorrecthorse` was shown as a name); shown when a long option's name typed with one
  // dash, or a typo of one (`-token`, `-mdoe`)
  if (arg.startsWith('--') || arg.length <= 2) return true;
  return nearName(arg.slice(1), longOptionsOf(names));
}

/** The command names of {@link commandNames}' list. */
function commandsOf(names: readonly string[]): string[] {
  return names.filter((name) => !name.startsWith('-'));
}

/** The long options' names of {@link commandNames}' list, without their dashes. */
function longOptionsOf(names: readonly string[]): string[] {
  return names.filter((name) => name.startsWith('--')).map((name) => name.slice(2));
}

/** What a hidden argument commander quoted becomes: its length alone, so the operator can tell which. */
function hiddenQuoted(arg: string): string {
  const chars = [...arg].length;
  return `'${HIDDEN}' (${chars} character${chars === 1 ? '' : 's'})`;
}

/**
 * A usage error without the value typed after an option's `=`: commander quotes the argument
 * whole (`unknown option '--api-token=<token>'`); the option's name says what was wrong.
 */
export function withoutOptionValues(text: string): string {
  // to the line's last quote: a value may hold a quote itself (commander's suggestion, if any, is
  // on the next line)
  return text.replace(/'(-{1,2}[^'=\s]+)=[^\n]*'/g, `'$1=${HIDDEN}'`);
}

/**
 * An argument and the values commander may take out of it and quote alone: what follows `=` of
 * `--mode=<value>`, what follows a short option's letter (`-m<value>`).
 */
function valuesOf(arg: string): string[] {
  if (!arg.startsWith('-')) return [arg];
  const eq = arg.indexOf('=');
  if (eq > 0) return [arg, arg.slice(eq + 1)];
  return !arg.startsWith('--') && arg.length > 2 ? [arg, arg.slice(2)] : [arg];
}

/**
 * Commander's usage error `text` with no argument of `typed` (the command line) in it: an option's
 * `=value` cut ({@link withoutOptionValues}), then every argument not shown as typed
 * ({@link shownAsTyped}; `names` are the program's command and option names, {@link commandNames}) replaced
 * wherever commander quoted it — whatever the error (unknown command or option, an invalid value)
 * — by `'…'` and its length, and anywhere at all when 8 characters or longer and no lowercase
 * word (a form commander may add later; a lowercase word may be one of commander's own, as a stray
 * `arguments` is in "too many arguments"). When anything was hidden, {@link HIDDEN_NOTE} follows
 * the first line.
 */
export function usageErrorText(
  text: string,
  typed: readonly string[],
  names: readonly string[] = [],
): string {
  let out = withoutOptionValues(text);
  const hidden = typed
    .flatMap(valuesOf)
    .filter((arg) => !shownAsTyped(arg, names))
    // longest first: an argument holding another is hidden whole
    .sort((a, b) => b.length - a.length);
  let changed = out !== text;
  for (const arg of hidden) {
    const before = out;
    out = out.split(`'${arg}'`).join(hiddenQuoted(arg));
    // a short value unquoted may be a word of commander's own ("Expected 1 argument")
    if (arg.length >= 8 && !NAME_LIKE.test(arg)) out = out.split(arg).join(HIDDEN);
    changed ||= out !== before;
  }
  if (!changed) return out;
  const end = out.indexOf('\n');
  return end < 0 ? `${out}\n${HIDDEN_NOTE}` : `${out.slice(0, end)}\n${HIDDEN_NOTE}${out.slice(end)}`;
}
