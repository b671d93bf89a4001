/**
 * Render a Discord application command's options as the words that follow `/name` in the
 * event text (spec/plugins.md, discord-interaction): `/model gpt-x`, `/skill run deploy`.
 */

import { stringOf } from './interaction-source.js';

/** Discord option types that nest further options instead of carrying a value. */
const SUB_COMMAND = 1;
const SUB_COMMAND_GROUP = 2;

/** Guard against a hostile payload nesting options without end (Discord allows two levels). */
const MAX_DEPTH = 8;

/**
 * The words of `options`, in order: a sub-command (group) contributes its name then its own
 * options; any other option contributes `String(value).trim()` unless the value is null or blank.
 * Entries that are not objects, and values `String()` cannot convert, are skipped, so a malformed
 * list never throws.
 */
export function renderOptions(options: unknown, depth = 0): string[] {
  if (!Array.isArray(options) || depth > MAX_DEPTH) return [];
  const words: string[] = [];
  for (const option of options) {
    if (!option || typeof option !== 'object') continue;
    const { type, name, value, options: nested } = option as Record<string, unknown>;
    if (type === SUB_COMMAND || type === SUB_COMMAND_GROUP) {
      if (typeof name === 'string' && name.trim() !== '') words.push(name.trim());
      words.push(...renderOptions(nested, depth + 1));
      continue;
    }
    if (value === null || value === undefined) continue;
    // a value String() cannot convert is skipped like a blank one
    const word = stringOf(value)?.trim() ?? '';
    if (word !== '') words.push(word);
  }
  return words;
}

/** The full command text: `/` + name, then the rendered options, space-separated and trimmed. */
export function renderCommand(name: string, options: unknown): string {
  return [`/${name}`, ...renderOptions(options)].join(' ').trim();
}
