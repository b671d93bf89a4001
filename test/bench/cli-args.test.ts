/**
 * The bench's command line: sizes, item and mode lists, and the experiment settings passed to
 * every sidecar (`--sidecar-env`, `--sidecar-config`), with a clear error for each bad value.
 */
import test from 'ava';
import { parseBenchArgs } from '../../bench/cli-args.js';

test('defaults: the full profile, every item, both modes, no experiment settings', (t) => {
  const o = parseBenchArgs([], '/out');
  t.is(o.sizes.name, 'full');
  t.is(o.only.size, 6);
  t.deepEqual(o.modes, ['push', 'pull']);
  t.deepEqual(o.sidecarEnv, {});
  t.is(o.sidecarConfig, undefined);
  t.is(o.outDir, '/out');
});

test('--sidecar-env and --sidecar-config reach every sidecar', (t) => {
  const o = parseBenchArgs(
    [
      '--quick',
      '--sidecar-env',
      'NODE_OPTIONS=--max-semi-space-size=4',
      '--sidecar-config',
      '{"pool":{"maxThreads":1}}',
    ],
    '/out',
  );
  t.is(o.sizes.name, 'quick');
  t.deepEqual(o.sidecarEnv, { NODE_OPTIONS: '--max-semi-space-size=4' });
  t.deepEqual(o.sidecarConfig, { pool: { maxThreads: 1 } });
});

test('bad values are refused with what was wrong', (t) => {
  t.throws(() => parseBenchArgs(['--sidecar-config', '{pool'], '/out'), { message: /not valid JSON/ });
  t.throws(() => parseBenchArgs(['--sidecar-config', '[1]'], '/out'), { message: /expected a JSON object/ });
  t.throws(() => parseBenchArgs(['--sidecar-env', 'NOEQUALS'], '/out'), { message: /expected K=V/ });
  t.throws(() => parseBenchArgs(['--only', 'everything'], '/out'), { message: /unknown item "everything"/ });
  t.throws(() => parseBenchArgs(['--runs', '0'], '/out'), { message: /--runs/ });
});
