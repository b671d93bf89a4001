/** Durations waited for by a timer are refused past what a Node timer can wait. */
import test from 'ava';
import { loadConfig } from '../../../core/config/load.js';
import { MAX_TIMER_MS } from '../../../core/config/schema.js';
import { RelayError } from '../../../core/errors.js';
import { tempConfigFile as configFile } from '../../helpers/temp-dir.js';

test('a push timeout or retry cap a timer cannot wait is refused at load, naming the key and the bound', (t) => {
  // was: accepted; Node fires a longer timer after 1 ms, so every push attempt "timed out after
  // 3000000000 ms" at once and the delivery was retried forever, never delivered
  const file = configFile(t, 'agent:\n  timeoutMs: 3000000000\n  retryMaxMs: 2147483648\n');
  const err = t.throws(() => loadConfig({ env: {}, file }));
  t.true(err instanceof RelayError);
  t.is((err as RelayError).code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(err?.message ?? '', /agent\.timeoutMs: must be at most 2147483647 ms/);
  t.regex(err?.message ?? '', /agent\.retryMaxMs: must be at most 2147483647 ms/);
});

test('the longest timer loads; ages compared with timestamps may be longer', (t) => {
  const file = configFile(t, `agent:\n  timeoutMs: ${MAX_TIMER_MS}\ninbox:\n  dedupeMaxAgeMs: 5000000000\n`);
  const config = loadConfig({ env: {}, file });
  t.is(config.agent.timeoutMs, MAX_TIMER_MS);
  t.is(config.inbox.dedupeMaxAgeMs, 5_000_000_000);
});
