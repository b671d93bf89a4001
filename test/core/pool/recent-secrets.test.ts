/** A pool worker's memory of its recent forwards' credentials, for its stray errors (recent-secrets.ts). */
import test from 'ava';
import { MAX_KEPT_VALUES, RecentSecrets } from '../../../core/pool/recent-secrets.js';
import type { ChainTask } from '../../../core/pool/task-protocol.js';
import { forward } from '../plugin-host/fixture-host.js';

const token = (i: number) => `interaction-token-${i}-0123456789`;
const convert = (i: number, filler = ''): ChainTask => ({
  k: 'convert',
  chain: [0],
  forward: forward('p', { token: token(i), filler }),
});
const said = (recent: RecentSecrets, i: number) => recent.secrets().redact(`expired ${token(i)}`);

test('the credentials of recent forwards and of the options are taken out; events are not searched', (t) => {
  const recent = new RecentSecrets([{ apiKey: 'sk-option-0123456789' }, undefined]);
  recent.remember(convert(1));
  recent.remember({ k: 'inbound', chain: [0], input: { event: { token: token(2) } } } as never);
  t.is(said(recent, 1), 'expired [redacted]');
  t.is(said(recent, 2), `expired ${token(2)}`);
  t.is(recent.secrets().redact('key sk-option-0123456789'), 'key [redacted]');
  // a task remembered after a search is searched in turn
  recent.remember(convert(3));
  t.is(said(recent, 3), 'expired [redacted]');
});

test('a forward is forgotten after the time bound, and past the count of tasks', (t) => {
  let now = 0;
  const recent = new RecentSecrets([], { tasks: 3, maxAgeMs: 1_000, now: () => now });
  recent.remember(convert(1));
  now = 600;
  for (const i of [2, 3]) recent.remember(convert(i));
  t.is(said(recent, 1), 'expired [redacted]');
  now = 1_001;
  t.is(said(recent, 1), `expired ${token(1)}`, 'older than the time bound');
  t.is(said(recent, 2), 'expired [redacted]');
  recent.remember(convert(4));
  recent.remember(convert(5));
  t.is(said(recent, 2), `expired ${token(2)}`, 'past the last 3 tasks');
  t.is(said(recent, 5), 'expired [redacted]');
});

test('forwards past the kept characters are searched at once, their credentials still known', (t) => {
  const recent = new RecentSecrets([], { maxKeptChars: 1_000 });
  for (let i = 0; i < 5; i++) recent.remember(convert(i, 'x'.repeat(600)));
  // searched as they were remembered, before any stray error asked: their values alone are kept
  t.true(recent.keptValues >= 4, String(recent.keptValues));
  for (let i = 0; i < 5; i++) t.is(said(recent, i), 'expired [redacted]');
});

test('the credentials kept are bounded too: past them the oldest forwards are let go, never the latest', (t) => {
  // 64 forwards of 300 credential-named decoys each: 19 200 values, every one indexed again for
  // each stray error after a new forward (seconds of the worker), and held for 15 minutes
  const decoys = (i: number) =>
    Object.fromEntries(Array.from({ length: 300 }, (_, k) => [`k${k}_token`, `decoy-${i}-${k}-value`]));
  const recent = new RecentSecrets([]);
  for (let i = 0; i < 64; i++) {
    recent.remember({ k: 'convert', chain: [0], forward: forward('p', { ...decoys(i), token: token(i) }) });
  }
  t.is(said(recent, 63), 'expired [redacted]');
  t.true(recent.keptValues <= MAX_KEPT_VALUES, String(recent.keptValues));
  t.is(said(recent, 0), `expired ${token(0)}`, 'the oldest let go');
  // one forward past the bound alone is kept whole: it is the latest
  const many = Object.fromEntries(
    Array.from({ length: 5_000 }, (_, k) => [`k${k}_token`, `many-${k}-value`]),
  );
  recent.remember({ k: 'convert', chain: [0], forward: forward('p', { ...many, token: token(99) }) });
  t.is(said(recent, 99), 'expired [redacted]');
  t.is(said(recent, 63), `expired ${token(63)}`);
});
