/**
 * Known secrets taken out of a text: the one place every redaction of a value the sidecar knows
 * goes through — its own credentials in a connector's close reason or error, the credentials a
 * task handed a plugin in that plugin's words, a worker's recent tasks' in a stray error.
 *
 * A URL's key-like path segment is taken out too, known or not (path-keys.ts: Discord's and
 * Slack's webhook URLs hold their key there). One pass over the text, whatever the number of
 * secrets: they are indexed by their first {@link KEY_CHARS} characters, and each position of the
 * text looks up only the secrets starting there. Searching the text once per secret made the cost
 * grow with their number, which is why the plugins' search stopped at 32 values — and a body with 32 credential-named decoys first then
 * crowded out the real token, which went out unredacted. Pure.
 */
import { REDACTED, withoutPathKeys } from './path-keys.js';

/** Shorter secrets are left: they would turn ordinary words into noise. */
const MIN_SECRET_CHARS = 4;
/** Characters of a secret's start that index it (at most {@link MIN_SECRET_CHARS}). */
const KEY_CHARS = 4;
/** Shortest start of a secret that ends a text (a text cut at its bound) and is taken out. */
const MIN_TAIL_CHARS = 8;
/** A cut-off start is looked for in the text's last this many characters (texts are bounded). */
const TAIL_WINDOW = 512;
/**
 * Characters a redaction may compare per character of its text, and on top: a secret is compared
 * only where the text holds its first four characters, so this is spent only by many secrets
 * sharing their start with what the text repeats (a hostile body's decoys the plugin echoes).
 */
const WORK_PER_CHAR = 64;
const BASE_WORK = 64 * 1024;
/** {@link SecretMatcher}'s answers for a position where no secret ends, and for a spent budget. */
const NOT_HERE = -1;
const SPENT = -2;

/** The filter bit of a character: its code's low 5 bits. */
function bit(text: string, at: number): number {
  return 1 << (text.charCodeAt(at) & 31);
}

/**
 * Characters neither `encodeURIComponent` nor a form (`URLSearchParams`) encodes: a secret of these
 * alone has no other form.
 */
const UNRESERVED = /^[A-Za-z0-9_.*-]*$/;
/** What `encodeURIComponent` leaves and a form encodes (`URLSearchParams`: `Sup3rSecret%21`). */
const FORM_ONLY = /[!'()~]/g;

/**
 * The forms a secret takes in a text besides its own: percent-encoded, as a URL carries it in a
 * path segment or a query (`/webhooks/<id>/<token>` built with `encodeURIComponent`), and as a
 * form writes it (`URLSearchParams`: `+` for a space, `!'()~` encoded too).
 */
function encodedForms(secret: string): string[] {
  if (UNRESERVED.test(secret)) return [];
  let encoded: string;
  try {
    encoded = encodeURIComponent(secret);
  } catch {
    // a lone surrogate cannot be encoded, so it never is in a URL either
    return [];
  }
  const form = encoded
    .replace(FORM_ONLY, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
  // `+` for a space with `!'()~` as they are too: encodeURIComponent's output made a form by hand
  const plus = encoded.replace(/%20/g, '+');
  return [...new Set([encoded, plus, form])].filter((f) => f !== secret);
}

/** A set of known secrets, indexed once, that takes them out of any number of texts. */
export class SecretMatcher {
  /** Secrets (and their encoded forms) by their first {@link KEY_CHARS} characters, longest first. */
  private readonly byKey = new Map<string, string[]>();
  /**
   * The {@link bit}s of the secrets' first and second characters: most positions of a text stop
   * at this filter (two integers: a typed array cost more to allocate than a few texts to scan).
   */
  private first = 0;
  private second = 0;

  constructor(secrets: Iterable<string | undefined>) {
    const all = new Set<string>();
    for (const secret of secrets) {
      if (!secret || secret.length < MIN_SECRET_CHARS) continue;
      all.add(secret);
      for (const form of encodedForms(secret)) all.add(form);
    }
    for (const secret of all) {
      const key = secret.slice(0, KEY_CHARS);
      const bucket = this.byKey.get(key);
      if (bucket) bucket.push(secret);
      else this.byKey.set(key, [secret]);
      this.first |= bit(secret, 0);
      this.second |= bit(secret, 1);
    }
    // at one position the longest wins: a value holding another is replaced whole
    for (const bucket of this.byKey.values()) bucket.sort((a, b) => b.length - a.length);
  }

  /** Whether there is no secret to take out. */
  get empty(): boolean {
    return this.byKey.size === 0;
  }

  /**
   * `text` with every occurrence of each secret replaced by {@link REDACTED}, and a text that ends
   * in the start of one ({@link MIN_TAIL_CHARS} characters or more: a message cut at its bound)
   * ending in it instead; then every key-like path segment, known or not ({@link withoutPathKeys}).
   * Linear in the text's length.
   */
  redact(text: string): string {
    return withoutPathKeys(this.withoutKnown(text));
  }

  /**
   * `text` without the known secrets alone, its path segments as they are: for a text the
   * sidecar wrote about the operator's own paths (a plugin module's file), which say what to fix.
   */
  withoutKnown(text: string): string {
    if (this.byKey.size === 0 || text.length < MIN_SECRET_CHARS) return text;
    const tailFrom = text.length - TAIL_WINDOW;
    this.budget = WORK_PER_CHAR * text.length + BASE_WORK;
    let out = '';
    let kept = 0;
    for (let i = 0; i <= text.length - KEY_CHARS; ) {
      const end =
        (this.first & bit(text, i)) === 0 || (this.second & bit(text, i + 1)) === 0
          ? NOT_HERE
          : this.matchAt(text, i, i >= tailFrom);
      if (end === NOT_HERE) {
        i++;
        continue;
      }
      // the budget spent: what is left is not vouched for, so it is not shown
      if (end === SPENT) return `${out}${text.slice(kept, i)}${REDACTED}`;
      out += text.slice(kept, i) + REDACTED;
      kept = i = end;
    }
    return kept === 0 ? text : out + text.slice(kept);
  }

  /** Characters compared left to the text being redacted. */
  private budget = 0;

  /**
   * Where the secret found at `at` ends (the text's end for a cut-off start), {@link NOT_HERE},
   * or {@link SPENT} once the text's budget of characters compared is spent. The characters are
   * compared here, not by `startsWith`, so that the budget is charged what a comparison costs:
   * charged a secret's whole length, a 1.7 KiB PEM key among the options cut an ordinary log line
   * whose dashed rules each started like it, though each comparison stopped at the sixth character.
   */
  private matchAt(text: string, at: number, inTail: boolean): number {
    const bucket = this.byKey.get(text.slice(at, at + KEY_CHARS));
    if (!bucket) return NOT_HERE;
    const rest = text.length - at;
    for (const secret of bucket) {
      const last = Math.min(secret.length, rest);
      // the first KEY_CHARS are the bucket's key
      let same = KEY_CHARS;
      while (same < last && text.charCodeAt(at + same) === secret.charCodeAt(same)) same++;
      this.budget -= same + 1;
      if (this.budget < 0) return SPENT;
      if (same === secret.length) return at + secret.length;
      if (same === rest && inTail && rest >= MIN_TAIL_CHARS) return text.length;
    }
    return NOT_HERE;
  }
}

/**
 * `text` with every occurrence of each of `secrets` (4 characters or more), or of its
 * percent-encoded form, replaced by {@link REDACTED}, and a text that ends in the start of one
 * (8 characters or more) ending in it instead ({@link SecretMatcher}). For the texts of others
 * that may quote what the sidecar sent them: a connector's close reason or error, a plugin's
 * message about its input. Many texts against one set: build one {@link SecretMatcher}.
 */
export function redactValues(text: string, secrets: Iterable<string | undefined>): string {
  return new SecretMatcher(secrets).redact(text);
}
