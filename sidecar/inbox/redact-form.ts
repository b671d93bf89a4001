/**
 * A dead letter's body read as form fields, as a plugin's `URLSearchParams` reads any text
 * (twilio's reader): fields split at `&`, a name at its first `=`, no check of the form's shape.
 * A strict shape check (`name=value&…`, no whitespace) first took `AuthToken=<t>\n`,
 * `a=1&flag&AuthToken=<t>` or `a=1&&token=<t>` for no form, and the text scan after it looks for
 * JSON pairs alone, so their token was stored; and its regexp threw RangeError (stack size) on a
 * form-like body of 8 MiB failing it at its end, inside the dead-letter commit.
 *
 * The fields are found without a walk of them all: a field the reader takes for a credential
 * holds a credential word in its name (plain, `%XX`, the Kelvin sign's bytes:
 * credential-pairs.ts), so one pass of that pattern over the text finds the fields to look at,
 * and only they are decoded (a walk decoding each of a 4 MiB body's fields cost seconds of the
 * main thread). Pure, linear in the text, and bounded in the fields it decodes.
 */
import { CREDENTIAL_WORD_IN_FORM } from '../../core/plugin-host/credential-pairs.js';
import { NON_ASCII } from '../../core/protocol/credential-key.js';

/**
 * Fields showing a credential word, at most: a webhook's form has a few dozen fields. Past it the
 * body is not stored (what a reader would take for a credential might be among the rest).
 */
export const MAX_CREDENTIAL_FIELDS = 10_000;

/**
 * Where each field of `text` showing a credential word starts and ends (its `&` excluded), in
 * order; undefined past {@link MAX_CREDENTIAL_FIELDS}. The text's low bytes are searched too when
 * the reader may cut a field to them (a part past ASCII with a `%`: credential-pairs.ts's
 * formDecode); they keep the text's indices (one byte per UTF-16 unit).
 */
export function credentialFields(text: string): [number, number][] | undefined {
  const views = [text];
  if (text.includes('%') && NON_ASCII.test(text)) views.push(Buffer.from(text, 'latin1').toString('latin1'));
  const fields = new Map<number, number>();
  for (const view of views) {
    const word = new RegExp(CREDENTIAL_WORD_IN_FORM);
    for (let m = word.exec(view); m !== null; m = word.exec(view)) {
      // no match holds a `&`: the field is around it, cut at the text's `&` (the reader splits
      // before it decodes: a low byte `&` splits nothing). The search goes on past the field, so
      // each character is read back at most once
      const start = text.lastIndexOf('&', m.index) + 1;
      const next = text.indexOf('&', word.lastIndex);
      const end = next < 0 ? text.length : next;
      fields.set(start, end);
      if (fields.size > MAX_CREDENTIAL_FIELDS) return undefined;
      word.lastIndex = end;
    }
  }
  return [...fields].sort((a, b) => a[0] - b[0]);
}

/** `value` form-encoded as `URLSearchParams` writes it (a reader takes it back whole). */
export function formEncoded(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}
