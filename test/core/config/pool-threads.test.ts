/**
 * `pool.minThreads` above `pool.maxThreads` is refused at load, naming both keys. The pool took
 * the smaller of the two, so `pool.minThreads: 4` (what operations.md advises for CPU-heavy hooks)
 * with the default `pool.maxThreads: 2` silently ran two workers.
 */
import test from 'ava';
import { loadConfig } from '../../../core/config/load.js';
import { RelayError } from '../../../core/errors.js';
import { tempConfigFile as configFile } from '../../helpers/temp-dir.js';

test('pool.minThreads above pool.maxThreads (its default included) refuses the start, naming both', (t) => {
  for (const text of ['pool:\n  minThreads: 4\n', 'pool:\n  minThreads: 3\n  maxThreads: 1\n']) {
    const file = configFile(t, text);
    const err = t.throws(() => loadConfig({ env: {}, file }), { instanceOf: RelayError });
    t.is(err?.code, 'CORE_ERR_CONFIG_INVALID', text);
    t.regex(err?.message ?? '', /pool\.minThreads: .*pool\.maxThreads/, text);
  }
});

test('pool.minThreads up to pool.maxThreads loads as given', (t) => {
  const equal = configFile(t, 'pool:\n  minThreads: 4\n  maxThreads: 4\n');
  t.like(loadConfig({ env: {}, file: equal }).pool, { minThreads: 4, maxThreads: 4 });
  const below = configFile(t, 'pool:\n  minThreads: 2\n  maxThreads: 6\n');
  t.like(loadConfig({ env: {}, file: below }).pool, { minThreads: 2, maxThreads: 6 });
});

test('pool.maxThreads above 64 refuses the start: a worker past the gate slots would run its store calls ungated', (t) => {
  const file = configFile(t, 'pool:\n  maxThreads: 300\n');
  const err = t.throws(() => loadConfig({ env: {}, file }), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(err?.message ?? '', /pool\.maxThreads/);
  t.like(loadConfig({ env: {}, file: configFile(t, 'pool:\n  maxThreads: 64\n') }).pool, { maxThreads: 64 });
});
