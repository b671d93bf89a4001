import test from 'ava';
import { startApi } from './api-harness.js';

test('GET /v1/dead-letters: limit is a whole number 1-500; anything else is 400 invalid_request, as the CLI refuses it', async (t) => {
  const asked: (number | undefined)[] = [];
  const h = await startApi(t, {
    deps: {
      inbox: {
        stats: () => ({ pending: 0, oldest_age_s: 0, inflight: 0, delivered: 0, dead: 0, dead_letters: [] }),
        deadLetters: (limit?: number) => {
          asked.push(limit);
          return [];
        },
      },
    },
  });
  for (const [query, limit] of [
    ['', 50],
    ['?limit=1', 1],
    ['?limit=500', 500],
  ] as const) {
    const res = await h.call(`/v1/dead-letters${query}`);
    t.is(res.status, 200, query);
    t.deepEqual(await res.json(), { dead_letters: [] });
    t.is(asked.at(-1), limit, query);
  }
  // were: 50, 1, 500, 12 and 50 without a word, so a caller's typo went unnoticed
  for (const bad of ['abc', '0', '501', '12abc', '', '-3', '2.5']) {
    const res = await h.call(`/v1/dead-letters?limit=${bad}`);
    t.is(res.status, 400, bad);
    const body = (await res.json()) as { error: { code: string; message: string } };
    t.is(body.error.code, 'invalid_request', bad);
    t.regex(body.error.message, /limit must be a whole number from 1 to 500/);
  }
  t.is(asked.length, 3);
});
