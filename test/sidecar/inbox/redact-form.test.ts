/**
 * A dead letter's body read as form fields as twilio's `URLSearchParams` reads any text: every
 * field the reader takes for a credential (credential-key.ts's rule on its decoded name) loses its
 * value, whatever the form's shape; every other byte is kept; a hostile body stays cheap and
 * bounded, and never throws.
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { isCredentialKey } from '../../../core/protocol/credential-key.js';
import { MAX_CREDENTIAL_FIELDS } from '../../../sidecar/inbox/redact-form.js';
import { BODY_OMITTED, redactBody, redactPath } from '../../../sidecar/inbox/redact-frame.js';

const SECRET = 'c2VjcmV0LWF1dGgtdG9rZW4tOWY4ZTdkNmM1YjRh';

const b64 = (text: string | Buffer) =>
  (typeof text === 'string' ? Buffer.from(text) : text).toString('base64');
const stored = (body: { bodyB64: string }) => Buffer.from(body.bodyB64, 'base64');

/**
 * The fields twilio's reader takes from a stored body that name a credential and still hold a
 * value other than the placeholder, by name only (a message never shows a secret).
 */
function leakedFields(kept: Buffer): string[] {
  const fields = [...new URLSearchParams(kept.toString('utf8'))];
  return fields
    .filter(([name, value]) => isCredentialKey(name) && value !== '' && value !== '[redacted]')
    .map(([n]) => n);
}

/** The fields of `text` as the reader takes them, credential fields left out. */
const otherFields = (text: string) =>
  [...new URLSearchParams(text)].filter(([name]) => !isCredentialKey(name));

test('a form of any shape the reader takes fields from loses its credential fields, and keeps the rest', (t) => {
  const bodies = [
    `AuthToken=${SECRET}\n`,
    `Body=hello world&AuthToken=${SECRET}`,
    `a=1&flag&AuthToken=${SECRET}`,
    `a=1&&token=${SECRET}`,
    `Body=line one\nline two&api_key=${SECRET}&From=%2B1`,
    `Auth%54oken=${SECRET}&To=x`,
    `+token=${SECRET}`,
    `client_secret=${SECRET}=more&code=abc`,
    // the Kelvin sign, read as `k`: raw, escaped
    `to\u212Aen=${SECRET}`,
    `to%E2%84%AAen=${SECRET}`,
    // a name past ASCII with a byte that is no UTF-8: Node's reader cuts it to low bytes (`token\uFFFD`)
    `to\u016Ben%C3=${SECRET}`,
    // İ ends the word `api` before `Key`
    `ap\u0130Key=${SECRET}`,
  ];
  for (const [i, text] of bodies.entries()) {
    const body = redactBody(b64(text));
    t.false('omitted' in body, `body ${i}`);
    const kept = stored(body);
    t.deepEqual(leakedFields(kept), [], `body ${i}`);
    t.false(kept.toString('latin1').includes(SECRET), `body ${i}`);
    t.deepEqual(otherFields(kept.toString('utf8')), otherFields(text), `body ${i}`);
  }
});

test('only the credential values change: every other byte is kept as it came', (t) => {
  const text = `Body=hello world&AuthToken=${SECRET}&From=%2b1+2&x\n`;
  t.is(stored(redactBody(b64(text))).toString(), 'Body=hello world&AuthToken=%5Bredacted%5D&From=%2b1+2&x\n');
});

test("twilio's shared webhooks keep their bytes; with a token field added in any place it is taken out", (t) => {
  const fixtures = JSON.parse(readFileSync('/work/shared/fixtures/twilio-webhooks.json', 'utf8')) as {
    samples: { name: string; forward: { bodyB64: string } }[];
  };
  for (const { name, forward } of fixtures.samples) {
    t.is(redactBody(forward.bodyB64).bodyB64, forward.bodyB64, name);
    const text = Buffer.from(forward.bodyB64, 'base64').toString('utf8');
    for (const added of [
      `${text}&AuthToken=${SECRET}\n`,
      `AuthToken=${SECRET}&${text}`,
      `${text}&&auth_token=${SECRET}&flag`,
    ]) {
      const kept = stored(redactBody(b64(added)));
      t.deepEqual(leakedFields(kept), [], name);
      t.false(kept.toString('latin1').includes(SECRET), name);
      t.deepEqual(otherFields(kept.toString('utf8')), otherFields(added), name);
    }
  }
});

test('hostile forms are searched in one pass, never throw, and too many credential fields store no body', (t) => {
  const mib = 1024 * 1024;
  for (const text of [
    `${'a=b&'.repeat(2 * mib)}\n`,
    'é=x&'.repeat(mib),
    'é=%C3tok&'.repeat(mib / 2),
    `k=${'token'.repeat(mib)}`,
  ]) {
    const body = redactBody(b64(text));
    t.true('omitted' in body || stored(body).length <= Buffer.byteLength(text), text.slice(0, 12));
  }
  const many = `${'token=x&'.repeat(MAX_CREDENTIAL_FIELDS + 1)}AuthToken=${SECRET}`;
  t.deepEqual(redactBody(b64(many)), { bodyB64: '', omitted: BODY_OMITTED.tooManyFields });
  // as many as searched: each taken out
  const enough = `${'token=x&'.repeat(MAX_CREDENTIAL_FIELDS - 1)}AuthToken=${SECRET}`;
  t.deepEqual(leakedFields(stored(redactBody(b64(enough)))), []);
});

test("a forward's path is read as the body is: its credential fields lose their values, every other byte stays", (t) => {
  t.is(
    redactPath(`/twilio/sms?a=1&flag&&AuthToken=${SECRET}&From=%2b1+2`),
    '/twilio/sms?a=1&flag&&AuthToken=%5Bredacted%5D&From=%2b1+2',
  );
  t.is(redactPath(`/h?to%6Ben=${SECRET}`), '/h?to%6Ben=%5Bredacted%5D');
  // a hostile query of 4 MiB is read in one pass (each field decoded cost 2 s of the main thread)
  const hostile = `/h?${'é=x&'.repeat(1024 * 1024)}token=${SECRET}`;
  const kept = redactPath(hostile);
  t.false(kept.includes(SECRET));
  t.true(kept.startsWith(`/h?${'é=x&'.repeat(16)}`));
  // too many credential fields to search: the query is not kept
  t.is(redactPath(`/h?${'token=x&'.repeat(MAX_CREDENTIAL_FIELDS + 1)}`), '/h');
});

test('a JSON pair whose key opens in a credential field the form pass rewrites is still redacted', (t) => {
  // the rewrite drops the field's quote, so a scan of the rewritten text reads the quotes after
  // it in other pairs and misses `"b&c_token": <secret>`, which a scan of the body finds
  const bodies = [`token=a"b&c_token":"${SECRET}"`, `token=a"b&c_token": "${SECRET}", "x": 1`];
  for (const body of bodies) {
    const kept = stored(redactBody(b64(body)));
    t.false(kept.includes(SECRET), `a credential pair kept of a ${body.length}-byte body`);
  }
});
