/**
 * Property-based test of the env file round trip (`relay-sidecar enroll` writes, `run
 * --env-path` reads): whatever a file already holds, every value `formatEnvValue` accepts is read
 * back exactly as written, and the values of the file's other keys do not change.
 */
import test from 'ava';
import fc from 'fast-check';
import { formatEnvValue, mergeEnvText, parseEnvText } from '../../../sidecar/cli/env-file.js';

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
const noNewline = (s: string) => s.replace(/[\r\n]/g, '');
const line = fc.oneof(
  fc.string({ maxLength: 20 }).map(noNewline),
  fc.tuple(key, fc.string({ maxLength: 12 })).map(([k, v]) => `${k}=${noNewline(v)}`),
  fc.tuple(key, fc.string({ maxLength: 12 })).map(([k, v]) => `export ${k}='${noNewline(v)}' # c`),
);
const accepted = (v: string) => {
  try {
    formatEnvValue(v);
    return true;
  } catch {
    return false;
  }
};

test('a merged value reads back as written; other keys keep their values', (t) => {
  fc.assert(
    fc.property(
      fc.array(line, { maxLength: 6 }),
      fc.uniqueArray(fc.tuple(key, fc.string({ unit: 'grapheme', maxLength: 24 }).filter(accepted)), {
        minLength: 1,
        maxLength: 3,
        selector: ([k]) => k,
      }),
      (lines, updates) => {
        const existing = lines.join('\n');
        const merged = parseEnvText(mergeEnvText(existing, updates));
        const written = new Map(updates);
        for (const [k, v] of written) if (merged[k] !== v) return false;
        for (const [k, v] of Object.entries(parseEnvText(existing))) {
          if (!written.has(k) && merged[k] !== v) return false;
        }
        return true;
      },
    ),
    { numRuns: 2_000 },
  );
  t.pass();
});
