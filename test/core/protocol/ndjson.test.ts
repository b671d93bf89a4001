import test from 'ava';
import { NdjsonSplitter, PARTIAL_CHUNK_COST } from '../../../core/protocol/ndjson.js';

const CAP = 64;

test('several frames in one message come out in order', (t) => {
  const s = new NdjsonSplitter(CAP);
  t.deepEqual(s.push('{"a":1}\n{"b":2}\n{"c":3}\n').lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  t.is(s.pendingBytes, 0);
});

test('a frame split across messages is emitted only once its newline arrives', (t) => {
  const s = new NdjsonSplitter(CAP);
  t.deepEqual(s.push('{"type":').lines, []);
  t.deepEqual(s.push('"inbound"').lines, []);
  t.is(s.pendingBytes, Buffer.byteLength('{"type":"inbound"'));
  t.deepEqual(s.push('}\n{"x"').lines, ['{"type":"inbound"}']);
  t.deepEqual(s.push(':1}\n').lines, ['{"x":1}']);
});

test('blank and whitespace-only lines are skipped, CRLF tolerated by the JSON layer', (t) => {
  const s = new NdjsonSplitter(CAP);
  t.deepEqual(s.push('\n\n  \n\t\r\n{"a":1}\r\n\n').lines, ['{"a":1}\r']);
});

test('binary messages are UTF-8 bytes of the same stream, even split inside a character', (t) => {
  const s = new NdjsonSplitter(CAP);
  const bytes = Buffer.from('{"t":"héllo 🔌"}\n', 'utf8');
  const cut = bytes.indexOf(0xf0) + 2; // in the middle of the 4-byte emoji
  t.deepEqual(s.push(bytes.subarray(0, cut)).lines, []);
  t.deepEqual(s.push(bytes.subarray(cut)).lines, ['{"t":"héllo 🔌"}']);
});

test('text and binary messages mix in one stream', (t) => {
  const s = new NdjsonSplitter(CAP);
  t.deepEqual(s.push(Buffer.from('{"a":')).lines, []);
  t.deepEqual(s.push('1}\n').lines, ['{"a":1}']);
});

test('the partial line is capped: overflow drops it and the rest of that line', (t) => {
  const s = new NdjsonSplitter(CAP);
  t.deepEqual(s.push('x'.repeat(40)).lines, []);
  const over = s.push('y'.repeat(40));
  t.deepEqual(over.lines, []);
  t.is(over.overflowBytes, 80);
  t.is(s.pendingBytes, 0);
  // The tail of the oversize line is discarded silently, the next line is intact.
  const after = s.push(`${'z'.repeat(100)}\n{"ok":true}\n`);
  t.deepEqual(after.lines, ['{"ok":true}']);
  t.is(after.overflowBytes, undefined);
});

test('a line completed in one push but longer than the cap overflows too', (t) => {
  const s = new NdjsonSplitter(CAP);
  s.push('a'.repeat(60));
  const r = s.push(`${'b'.repeat(10)}\n{"n":1}\n`);
  t.is(r.overflowBytes, 70);
  t.deepEqual(r.lines, ['{"n":1}']);
});

test('a line of exactly the cap is kept', (t) => {
  const s = new NdjsonSplitter(8);
  t.deepEqual(s.push('12345678').lines, []);
  t.deepEqual(s.push('\n').lines, ['12345678']);
});

test('a line one byte over the cap, completed by its newline, overflows', (t) => {
  const s = new NdjsonSplitter(8);
  t.deepEqual(s.push('1234567').lines, []);
  const r = s.push('89\n{"n":2}\n');
  t.is(r.overflowBytes, 9);
  t.deepEqual(r.lines, ['{"n":2}']);
});

test('reset forgets the partial line', (t) => {
  const s = new NdjsonSplitter(CAP);
  s.push('{"half":');
  s.reset();
  t.is(s.pendingBytes, 0);
  t.deepEqual(s.push('{"whole":1}\n').lines, ['{"whole":1}']);
});

test('a partial line spread over too many messages overflows too (one byte per message)', (t) => {
  const cap = 64 * PARTIAL_CHUNK_COST;
  const s = new NdjsonSplitter(cap);
  let overflow: number | undefined;
  let pushed = 0;
  while (overflow === undefined && pushed < cap) {
    overflow = s.push('x').overflowBytes;
    pushed += 1;
  }
  // 64 one-byte pieces are held (64 bytes, far under the byte cap), the 65th overflows
  t.is(pushed, 65);
  t.is(overflow, 65);
  t.is(s.pendingBytes, 0);
  t.deepEqual(s.push('tail of it\n{"next":1}\n').lines, ['{"next":1}']);
  // the same line in a few large pieces is kept
  const whole = new NdjsonSplitter(cap);
  whole.push('a'.repeat(1000));
  whole.push('b'.repeat(1000));
  t.deepEqual(whole.push('\n').lines, ['a'.repeat(1000) + 'b'.repeat(1000)]);
});
