/**
 * A usage error as the CLI prints it: what was wrong and the pointer to `--help`, never what was
 * typed. Commander quotes the argument it refused (`unknown command '<arg>'`, `unknown option
 * '<flag>'`, an invalid value), and an argument may be a credential pasted in the wrong place
 * (`relay-sidecar <token>`, `run --api-token=<token>`), which a supervisor's journal then keeps.
 * Pure, tested through the built CLI.
 */

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
 * `=value` cut ({@link withoutOptionValues}), then every argument that is not a plain name replaced
 * by `…` wherever commander quoted it — whatever the error (unknown command or option, an invalid
 * value) — and anywhere at all when 8 characters or longer (a form commander may add later).
 * When anything was hidden, {@link HIDDEN_NOTE} follows the first line.
 */
export function usageErrorText(text: string, typed: readonly string[]): string {
  let out = withoutOptionValues(text);
  const hidden = typed
    .flatMap(valuesOf)
    .filter(
      (arg) =>
        arg.length > 0 && !(arg.length <= MAX_NAME_CHARS && (NAME_LIKE.test(arg) || OPTION_LIKE.test(arg))),
    )
    // longest first: an argument holding another is hidden whole
    .sort((a, b) => b.length - a.length);
  let changed = out !== text;
  for (const arg of hidden) {
    const before = out;
    out = out.split(`'${arg}'`).join(`'${HIDDEN}'`);
    // a short value unquoted may be a word of commander's own ("Expected 1 argument")
    if (arg.length >= 8) out = out.split(arg).join(HIDDEN);
    changed ||= out !== before;
  }
  if (!changed) return out;
  const end = out.indexOf('\n');
  return end < 0 ? `${out}\n${HIDDEN_NOTE}` : `${out.slice(0, end)}\n${HIDDEN_NOTE}${out.slice(end)}`;
}
