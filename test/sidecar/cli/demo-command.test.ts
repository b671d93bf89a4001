/**
 * `relay-sidecar demo`: the built CLI completes all five round trips and exits 0; when one hop
 * cannot complete, `runDemo` resolves false and the command exits non-zero.
 *
 * The failure is injected without touching the demo: the agent's `POST /v1/interrupt` (round
 * trip 5, the agent → sidecar hop, made with the global `fetch`) is refused, in this process
 * for `runDemo` and through a `--import` preload for the child.
 */
import test from 'ava';
import { runDemo } from '../../../sidecar/demo/run-demo.js';
import { spawnCli } from '../lifecycle/sidecar-child.js';

const STEPS = 5;
const INJECTED = 'injected: the agent cannot reach the sidecar';

/** Replace `fetch` so that calls to `/v1/interrupt` reject, as if the API were unreachable. */
const REFUSE_INTERRUPT = `
const real = globalThis.fetch;
globalThis.fetch = (url, init) =>
  String(url).includes('/v1/interrupt') ? Promise.reject(new TypeError(${JSON.stringify(INJECTED)})) : real(url, init);
`;

/** Round-trip outcome lines of a transcript. */
function outcomes(transcript: string): { ok: string[]; failed: string[]; headers: string[] } {
  const lines = transcript.split('\n');
  return {
    ok: lines.filter((l) => /^ {2}✓ round trip complete \(\d+ ms\)$/.test(l)),
    failed: lines.filter((l) => /^ {2}✗ /.test(l)),
    headers: lines.filter((l) => /^▶ \d\. /.test(l)),
  };
}

test.serial('`demo` as a process: five round trips, each printed hop by hop, exit 0', async (t) => {
  const child = spawnCli(t, ['demo'], {});
  const exit = await child.waitExit(30_000);
  const out = child.stdout();
  t.deepEqual(exit, { code: 0, signal: null }, child.stderr());
  const { ok, failed, headers } = outcomes(out);
  t.is(headers.length, STEPS);
  t.is(ok.length, STEPS);
  t.deepEqual(failed, []);
  t.regex(out, /^✓ all 5 round trips completed$/m);
  // the transcript shows the hops, both directions, for the path the demo claims
  for (const hop of [
    /connector → sidecar {4}inbound /,
    /sidecar {3}→ agent {6}message /,
    /agent {5}→ sidecar {4}send /,
    /sidecar {3}→ connector {2}outbound .*scope_id/,
    /sidecar {3}→ connector {2}inbound_ack /,
    /sidecar {3}→ connector {2}interrupt /,
    /sidecar {3}→ connector {2}going_idle/,
  ]) {
    t.regex(out, hop);
  }
});

test.serial('`demo` as a process: a round trip that cannot complete makes it exit non-zero', async (t) => {
  const preload = `data:text/javascript,${encodeURIComponent(REFUSE_INTERRUPT)}`;
  const child = spawnCli(t, ['demo'], {}, ['--import', preload]);
  const exit = await child.waitExit(30_000);
  const out = child.stdout();
  t.is(exit.code, 1);
  const { ok, failed } = outcomes(out);
  t.is(ok.length, STEPS - 1, 'the other four still complete');
  t.deepEqual(failed, [`  ✗ ${INJECTED}`]);
  t.regex(out, /^✗ 1 round trip\(s\) failed$/m);
});

test.serial('runDemo resolves false when one round trip fails, true otherwise', async (t) => {
  const real = globalThis.fetch;
  const lines: string[] = [];
  globalThis.fetch = ((url: string | URL | Request, init?: RequestInit) =>
    String(url).includes('/v1/interrupt')
      ? Promise.reject(new TypeError(INJECTED))
      : real(url, init)) as typeof fetch;
  try {
    t.false(await runDemo({ out: (line) => lines.push(line) }));
  } finally {
    globalThis.fetch = real;
  }
  t.is(outcomes(lines.join('\n')).failed.length, 1);
  // the same process, nothing injected: the demo passes again (no state leaks between runs)
  t.true(await runDemo({ out: () => {} }));
});
