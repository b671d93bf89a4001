import test, { type ExecutionContext } from 'ava';
import {
  mintToken,
  sign,
  tokenFor,
  UPGRADE_TOKEN_TTL_S,
  upgradeToken,
  verifyToken,
} from '../../../core/transport/auth-token.js';
import { loadSharedFixture } from '../../helpers/shared-fixtures.js';

interface AuthVectors {
  sign: { payload: string; secret: string; hex: string }[];
  tokens: { payload: string; secret: string; exp: number; token: string }[];
  verify_cases: string[];
}

const vectors = loadSharedFixture<AuthVectors>('auth-vectors.json');
const NOW = 1_754_700_000;

/** Build a raw token from arbitrary text, to exercise malformed shapes. */
const raw = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

test('the fixture has vectors of every kind', (t) => {
  t.true(vectors.sign.length > 0 && vectors.tokens.length > 0 && vectors.verify_cases.length > 0);
});

for (const v of vectors.sign) {
  test(`sign vector: ${v.payload}/${v.secret}`, (t) => {
    t.is(sign(v.payload, v.secret), v.hex);
  });
}

for (const v of vectors.tokens) {
  test(`token vector: ${v.payload} exp ${v.exp}`, (t) => {
    t.is(tokenFor(v.payload, v.secret, v.exp), v.token);
    const now = v.exp === 0 ? NOW : v.exp;
    t.deepEqual(verifyToken(v.token, [v.secret], now), { ok: true, payload: v.payload, exp: v.exp });
  });
}

test('mintToken: exp = now + ttl, ttl 0 never expires; upgradeToken uses the ms clock and 300 s', (t) => {
  t.is(mintToken('gw', 's', 60, NOW), tokenFor('gw', 's', NOW + 60));
  t.is(mintToken('gw', 's', 0, NOW), tokenFor('gw', 's', 0));
  t.is(upgradeToken('gw', 's', NOW * 1000 + 999), tokenFor('gw', 's', NOW + UPGRADE_TOKEN_TTL_S));
  t.is(upgradeToken('gw', 's', NOW * 1000, 5), tokenFor('gw', 's', NOW + 5));
});

/** One check per `verify_cases` entry of the fixture, keyed by its exact text. */
const VERIFY_CASES: Record<string, (t: ExecutionContext) => void> = {
  'round trip with the right secret accepts': (t) => {
    const token = mintToken('gw-1', 'right', 300, NOW);
    t.deepEqual(verifyToken(token, ['right'], NOW + 10), { ok: true, payload: 'gw-1', exp: NOW + 300 });
  },
  'a wrong secret rejects': (t) => {
    const token = mintToken('gw-1', 'right', 300, NOW);
    t.deepEqual(verifyToken(token, ['wrong'], NOW), { ok: false, code: 'CORE_ERR_AUTH_TOKEN_BAD_SIGNATURE' });
    t.deepEqual(verifyToken(token, [], NOW), { ok: false, code: 'CORE_ERR_AUTH_TOKEN_BAD_SIGNATURE' });
  },
  'rotation list [new, old] accepts a token signed with old': (t) => {
    const token = mintToken('gw-1', 'old', 300, NOW);
    t.true(verifyToken(token, ['new', 'old'], NOW).ok);
    t.false(verifyToken(token, ['new'], NOW).ok);
    // empty secrets are skipped, never used as an HMAC key
    t.false(verifyToken(mintToken('gw-1', '', 300, NOW), ['', 'new'], NOW).ok);
  },
  'ttl 1 s, clock advanced 60 s: rejects as expired': (t) => {
    const token = mintToken('gw-1', 'k', 1, NOW);
    t.true(verifyToken(token, ['k'], NOW + 1).ok, 'valid up to and including exp');
    t.deepEqual(verifyToken(token, ['k'], NOW + 60), { ok: false, code: 'CORE_ERR_AUTH_TOKEN_EXPIRED' });
  },
  'exp 0 never expires': (t) => {
    const token = mintToken('gw-1', 'k', 0, NOW);
    t.deepEqual(verifyToken(token, ['k'], Number.MAX_SAFE_INTEGER), { ok: true, payload: 'gw-1', exp: 0 });
  },
  "payload containing ':' round-trips": (t) => {
    const token = mintToken('tenant:gw:1', 'k', 300, NOW);
    t.deepEqual(verifyToken(token, ['k'], NOW), { ok: true, payload: 'tenant:gw:1', exp: NOW + 300 });
  },
  'non-hex or empty signature rejects; fewer than 3 parts rejects': (t) => {
    const bad = (token: string) => verifyToken(token, ['k'], NOW);
    const sig = sign('gw:0', 'k');
    t.true(bad(raw(`gw:0:${sig}`)).ok, 'control: the well-formed token is accepted');
    t.deepEqual(bad(raw('gw:0:')), { ok: false, code: 'CORE_ERR_AUTH_TOKEN_BAD_SIGNATURE' });
    t.deepEqual(bad(raw(`gw:0:${'z'.repeat(64)}`)), { ok: false, code: 'CORE_ERR_AUTH_TOKEN_BAD_SIGNATURE' });
    t.deepEqual(bad(raw(`gw:0:${sig.toUpperCase()}`)), {
      ok: false,
      code: 'CORE_ERR_AUTH_TOKEN_BAD_SIGNATURE',
    });
    t.deepEqual(bad(raw(`gw:0:${sig.slice(0, 62)}`)), {
      ok: false,
      code: 'CORE_ERR_AUTH_TOKEN_BAD_SIGNATURE',
    });
    t.deepEqual(bad(raw(`gw:${sig}`)), { ok: false, code: 'CORE_ERR_AUTH_TOKEN_MALFORMED' });
    t.deepEqual(bad(raw('gw')), { ok: false, code: 'CORE_ERR_AUTH_TOKEN_MALFORMED' });
  },
};

for (const name of vectors.verify_cases) {
  test(`verify case: ${name}`, (t) => {
    const check = VERIFY_CASES[name];
    if (!check) return t.fail(`no test for fixture verify case: ${name}`);
    check(t);
  });
}

test('malformed tokens never throw', (t) => {
  const sig = sign('gw:0', 'k');
  for (const token of [
    '',
    '=',
    '!!!',
    'a',
    'ab=c',
    raw(`gw:x1:${sig}`),
    raw(`gw:-1:${sig}`),
    raw(`:${sig}`),
  ]) {
    const r = verifyToken(token, ['k'], NOW);
    t.false(r.ok, token);
    t.is(r.ok ? '' : r.code, 'CORE_ERR_AUTH_TOKEN_MALFORMED', token);
  }
  t.notThrows(() => verifyToken(undefined as unknown as string, ['k'], NOW));
});

test('a padded token is accepted (re-padding tolerates either form)', (t) => {
  const token = tokenFor('gw1', 'k', 0);
  t.not(token.length % 4, 0, 'control: this token needs padding');
  const padded = token + '='.repeat((4 - (token.length % 4)) % 4);
  t.deepEqual(verifyToken(padded, ['k'], NOW), { ok: true, payload: 'gw1', exp: 0 });
});
