/**
 * The `connector` command's line handling as pure functions: formatFrameLine masking credentials and
 * cutting long frames, parseInjectLine, LineCounter, and descriptorFromFile.
 */
import test from 'ava';
import {
  descriptorFromFile,
  formatFrameLine,
  MAX_FRAME_CHARS,
  parseInjectLine,
} from '../../../sidecar/cli/connector-format.js';
import { LineCounter } from '../../../sidecar/cli/connector-inject.js';

test('formatFrameLine masks credentials, scrubs forward bodies and cuts long frames', (t) => {
  const body = Buffer.from(JSON.stringify({ type: 2, token: 'interaction-tok-77' })).toString('base64');
  const line = formatFrameLine({
    dir: 'out',
    conn: 3,
    at: Date.UTC(2026, 0, 1, 12, 0, 1, 234),
    frame: {
      type: 'passthrough_forward',
      forward: { platform: 'discord', headers: [['Authorization', 'Bot abc']], bodyB64: body, token: 't-1' },
    },
  });
  t.regex(line, /^12:00:01\.234 → #3 passthrough_forward \{/);
  for (const s of ['interaction-tok-77', 'Bot abc', 't-1']) t.false(line.includes(s), s);
  t.regex(line, /\[redacted\]/);

  const long = formatFrameLine({
    dir: 'in',
    conn: 1,
    at: 0,
    frame: { type: 'outbound', pad: 'x'.repeat(1000) },
  });
  t.regex(long, /…\(\+\d+ chars\)$/);
  t.true(long.length < MAX_FRAME_CHARS + 80);
  const bad = formatFrameLine({
    dir: 'in',
    conn: 1,
    at: 0,
    frame: { type: 'hello' },
    invalid: 'platform: required',
  });
  t.regex(bad, /← #1 hello .* ✗ invalid: platform: required$/);
});

test('parseInjectLine: plain, !buffered prefix, buffered key, comments, errors', (t) => {
  t.deepEqual(parseInjectLine('{"type":"x"}'), { kind: 'frame', frame: { type: 'x' }, buffered: false });
  t.deepEqual(parseInjectLine('!buffered {"type":"x"}'), {
    kind: 'frame',
    frame: { type: 'x' },
    buffered: true,
  });
  t.deepEqual(parseInjectLine('{"type":"x","buffered":true}'), {
    kind: 'frame',
    frame: { type: 'x' },
    buffered: true,
  });
  t.deepEqual(parseInjectLine('  # note'), { kind: 'skip' });
  t.deepEqual(parseInjectLine('   '), { kind: 'skip' });
  for (const bad of ['{', '"str"', 'null', '[]', '{"buffered":"yes"}'])
    t.is(parseInjectLine(bad).kind, 'error', bad);
});

test('LineCounter numbers every line, joins chunks and drops an overlong line once', (t) => {
  const seen: string[] = [];
  const long: number[] = [];
  const lc = new LineCounter(5);
  const push = (s: string) =>
    lc.push(
      s,
      (l, n) => seen.push(`${n}:${l}`),
      (n) => long.push(n),
    );
  push('ab');
  push('c\n\nxy');
  push('zzzzzz-still-line-3\nok\n');
  t.deepEqual(seen, ['1:abc', '2:', '4:ok']);
  t.deepEqual(long, [3]);
});

test('descriptorFromFile: flat fields apply to every hello, platform always follows the hello', (t) => {
  const fn = descriptorFromFile({ supports_edit: false, platform: 'ignored' });
  t.like(fn({ platform: 'telegram' }), { platform: 'telegram', supports_edit: false, contract_version: 1 });
  t.throws(() => descriptorFromFile([]));
  t.throws(() => descriptorFromFile({ platforms: 3 }));
});
