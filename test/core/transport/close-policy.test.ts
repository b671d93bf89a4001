import test from 'ava';
import { type CloseFacts, decideAfterClose } from '../../../core/transport/close-policy.js';

const CASES: [string, CloseFacts, string, number][] = [
  ['normal close', { code: 1006, reason: '', everHandshaken: true, strikes: 0 }, 'backoff', 0],
  [
    '4401 before any handshake',
    { code: 4401, reason: 'invalid', everHandshaken: false, strikes: 0 },
    'backoff',
    0,
  ],
  [
    '4401 expired before any handshake',
    { code: 4401, reason: 'expired', everHandshaken: false, strikes: 1 },
    'backoff',
    1,
  ],
  [
    '4401 expired after a handshake',
    { code: 4401, reason: 'expired', everHandshaken: true, strikes: 0 },
    'backoff',
    0,
  ],
  [
    '4401 expired with a strike kept',
    { code: 4401, reason: 'expired', everHandshaken: true, strikes: 1 },
    'backoff',
    1,
  ],
  [
    'first non-expired 4401',
    { code: 4401, reason: 'invalid', everHandshaken: true, strikes: 0 },
    'immediate',
    1,
  ],
  [
    'second non-expired 4401',
    { code: 4401, reason: 'revoked', everHandshaken: true, strikes: 1 },
    'revoked',
    2,
  ],
  [
    'empty-reason 4401 counts as non-expired',
    { code: 4401, reason: '', everHandshaken: true, strikes: 0 },
    'immediate',
    1,
  ],
  ['1009 too large', { code: 1009, reason: '', everHandshaken: true, strikes: 1 }, 'backoff', 1],
];

for (const [name, facts, action, strikes] of CASES) {
  test(`close policy: ${name}`, (t) => {
    t.deepEqual(decideAfterClose(facts), { action, strikes });
  });
}
