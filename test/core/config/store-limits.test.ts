/**
 * The store's size keys load from the config file as `store.maxKeysPerPlugin` does (the file only:
 * no env variable), with their defaults and bounds; a byte cap below one key at both limits is
 * refused naming the keys, as such a write would be evicted at the next upkeep pass.
 */
import test from 'ava';
import { loadConfig } from '../../../core/config/load.js';
import { RelayError } from '../../../core/errors.js';
import { tempConfigFile as configFile } from '../../helpers/temp-dir.js';

test('defaults: 1 KiB keys, 1 MiB values, 256 MiB per plugin', (t) => {
  t.like(loadConfig({ env: {} }).store, {
    maxKeyBytes: 1_024,
    maxValueBytes: 1_048_576,
    maxBytesPerPlugin: 268_435_456,
  });
});

test('the config file sets them', (t) => {
  const file = configFile(
    t,
    'store:\n  maxKeyBytes: 200\n  maxValueBytes: 5000\n  maxBytesPerPlugin: 1000000\n',
  );
  t.like(loadConfig({ env: {}, file }).store, {
    maxKeyBytes: 200,
    maxValueBytes: 5_000,
    maxBytesPerPlugin: 1_000_000,
  });
});

test('out of bounds or inconsistent values refuse the start, naming the key', (t) => {
  for (const [text, pattern] of [
    ['store:\n  maxKeyBytes: 0\n', /store\.maxKeyBytes/],
    ['store:\n  maxKeyBytes: 70000\n', /store\.maxKeyBytes: must be at most 65536 bytes/],
    ['store:\n  maxValueBytes: 100000000\n', /store\.maxValueBytes: must be at most 67108864 bytes/],
    [
      'store:\n  maxBytesPerPlugin: 1000000\n',
      /store\.maxBytesPerPlugin: must be at least store\.maxKeyBytes \+ store\.maxValueBytes \(1049600\)/,
    ],
  ] as const) {
    const err = t.throws(() => loadConfig({ env: {}, file: configFile(t, text) }), {
      instanceOf: RelayError,
    });
    t.is(err?.code, 'CORE_ERR_CONFIG_INVALID', text);
    t.regex(err?.message ?? '', pattern, text);
  }
});

test('store.maxValueBytes past 1/8 of the worker heap refuses the start, naming both keys and the fix', (t) => {
  // 64 MiB values beside the default 128 MiB worker heap: a worker storing one near the cap died
  for (const [text, need] of [
    ['store:\n  maxValueBytes: 67108864\n', 512],
    ['store:\n  maxValueBytes: 16777217\n', 129],
    ['pool:\n  maxOldGenerationSizeMb: 32\nstore:\n  maxValueBytes: 5000000\n', 39],
  ] as const) {
    const err = t.throws(() => loadConfig({ env: {}, file: configFile(t, text) }), {
      instanceOf: RelayError,
    });
    t.is(err?.code, 'CORE_ERR_CONFIG_INVALID', text);
    t.regex(
      err?.message ?? '',
      /store\.maxValueBytes: must be at most 1\/8 of the worker heap, pool\.maxOldGenerationSizeMb/,
      text,
    );
    t.regex(
      err?.message ?? '',
      new RegExp(`raise pool\\.maxOldGenerationSizeMb to at least ${need}$`, 'm'),
      text,
    );
  }
});

test('store.maxValueBytes within 1/8 of the worker heap loads, the cap included', (t) => {
  const at = configFile(t, 'store:\n  maxValueBytes: 16777216\n');
  t.is(loadConfig({ env: {}, file: at }).store.maxValueBytes, 16_777_216);
  const big = configFile(t, 'pool:\n  maxOldGenerationSizeMb: 512\nstore:\n  maxValueBytes: 67108864\n');
  t.like(loadConfig({ env: {}, file: big }), {
    store: { maxValueBytes: 67_108_864 },
    pool: { maxOldGenerationSizeMb: 512 },
  });
});
