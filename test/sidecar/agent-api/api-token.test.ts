import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { validateConfig } from '../../../core/config/load.js';
import { RelayError } from '../../../core/errors.js';
import { createLogger } from '../../../core/log/logger.js';
import { API_TOKEN_FILE, ensureApiToken, resolveApiToken } from '../../../sidecar/agent-api/api-token.js';
import { logSink, postJson, startApi, tempDir } from './api-harness.js';

const posix = process.platform !== 'win32';

function sinkLogger() {
  const sink = logSink();
  const log = createLogger({ level: 'debug', destination: sink.stream });
  const lines = () =>
    sink
      .text()
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as { msg: string; path?: string; level: number });
  return { log, text: sink.text, lines };
}

test('a token is generated into <dataDir>/api-token with mode 0600; the path is logged, never the token', (t) => {
  const dir = join(tempDir(t), 'nested', 'data');
  const { log, text, lines } = sinkLogger();
  const token = ensureApiToken(dir, log);
  t.regex(token, /^[0-9a-f]{64}$/);
  const file = join(dir, API_TOKEN_FILE);
  t.is(readFileSync(file, 'utf8').trim(), token);
  if (posix) t.is(statSync(file).mode & 0o777, 0o600);
  t.true(lines().some((l) => l.msg === 'api token generated' && l.path === file));
  t.false(text().includes(token));
});

test('an existing token file is reused', (t) => {
  const dir = tempDir(t);
  const { log } = sinkLogger();
  const first = ensureApiToken(dir, log);
  const second = ensureApiToken(dir, log);
  t.is(second, first);
});

test('loose permissions are tightened to 0600 with a warning', (t) => {
  if (!posix) return t.pass();
  const dir = tempDir(t);
  const file = join(dir, API_TOKEN_FILE);
  writeFileSync(file, 'a-hand-written-token-0123456789\n');
  chmodSync(file, 0o644);
  const { log, text, lines } = sinkLogger();
  t.is(ensureApiToken(dir, log), 'a-hand-written-token-0123456789');
  t.is(statSync(file).mode & 0o777, 0o600);
  t.true(lines().some((l) => l.msg === 'api token file permissions tightened to 0600' && l.level === 40));
  t.false(text().includes('a-hand-written-token'));
  // readable by the group only is loose too
  chmodSync(file, 0o640);
  t.is(ensureApiToken(dir, log), 'a-hand-written-token-0123456789');
  t.is(statSync(file).mode & 0o777, 0o600);
});

test('an empty token file is regenerated', (t) => {
  const dir = tempDir(t);
  const file = join(dir, API_TOKEN_FILE);
  writeFileSync(file, '\n', { mode: 0o600 });
  const token = ensureApiToken(dir, sinkLogger().log);
  t.regex(token, /^[0-9a-f]{64}$/);
  t.is(readFileSync(file, 'utf8').trim(), token);
});

for (const [name, content] of [
  ['too short', 'short'],
  ['holding spaces', 'a token with spaces in it'],
] as const) {
  test(`a token file ${name} is refused with CORE_ERR_API_TOKEN_FILE_UNUSABLE`, (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, API_TOKEN_FILE), content, { mode: 0o600 });
    const err = t.throws(() => ensureApiToken(dir, sinkLogger().log), { instanceOf: RelayError });
    t.is((err as RelayError).code, 'CORE_ERR_API_TOKEN_FILE_UNUSABLE');
    t.false((err as RelayError).message.includes(content));
  });
}

test('a directory in place of the token file is refused', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, API_TOKEN_FILE));
  const err = t.throws(() => ensureApiToken(dir, sinkLogger().log), { instanceOf: RelayError });
  t.is((err as RelayError).code, 'CORE_ERR_API_TOKEN_FILE_UNUSABLE');
});

test('a symbolic link in place of the token file is refused, its target left alone', (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'someone-elses-file');
  writeFileSync(target, 'publicknownvalue1234', { mode: 0o644 });
  chmodSync(target, 0o644);
  symlinkSync(target, join(dir, API_TOKEN_FILE));
  const err = t.throws(() => ensureApiToken(dir, sinkLogger().log), { instanceOf: RelayError });
  t.is((err as RelayError).code, 'CORE_ERR_API_TOKEN_FILE_UNUSABLE');
  t.regex(err?.message ?? '', /is a symbolic link/);
  t.is(statSync(target).mode & 0o777, 0o644, 'the target was not chmod-ed');
});

test('a configured token wins and no file is written', (t) => {
  const dir = tempDir(t);
  const config = validateConfig({ dataDir: dir, api: { token: 'configured-token-0123456789' } });
  const { log, text } = sinkLogger();
  t.is(resolveApiToken(config, log), 'configured-token-0123456789');
  t.throws(() => statSync(join(dir, API_TOKEN_FILE)));
  t.false(text().includes('configured-token'));
});

test('the generated token authorises API calls end to end', async (t) => {
  const dir = tempDir(t);
  const config = validateConfig({ dataDir: dir });
  const token = resolveApiToken(config, sinkLogger().log);
  const h = await startApi(t, { deps: { token } });
  const res = await postJson(
    h,
    '/v1/actions',
    { op: 'send', chat_id: 'C1', content: 'x' },
    {
      headers: { authorization: `Bearer ${readFileSync(join(dir, API_TOKEN_FILE), 'utf8').trim()}` },
    },
  );
  t.is(res.status, 200);
});

// root may chmod and read any file: a token file of another user needs root and that user
const asOtherUser = process.getuid?.() === 0 && existsSync('/usr/sbin/runuser') ? test : test.skip;

asOtherUser(
  'a token file another user owns is refused, not tightened and adopted: that user knows the token',
  (t) => {
    const dir = tempDir(t);
    const file = join(dir, API_TOKEN_FILE);
    writeFileSync(file, 'planted-by-another-user-0123456789\n', { mode: 0o644 });
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    chownSync(file, nobody, nobody);
    chmodSync(file, 0o644);
    // was: tightened to 0600 (root may chmod it) and used; its owner can read it again at will
    const err = t.throws(() => ensureApiToken(dir, sinkLogger().log), { instanceOf: RelayError });
    t.is((err as RelayError).code, 'CORE_ERR_API_TOKEN_FILE_UNUSABLE');
    t.regex(err?.message ?? '', new RegExp(`belongs to another user \\(uid ${nobody}\\)`));
    t.is(statSync(file).mode & 0o777, 0o644, 'not chmod-ed');
    // root's own file is fine (a token root wrote for the service)
    chownSync(file, 0, 0);
    t.is(ensureApiToken(dir, sinkLogger().log), 'planted-by-another-user-0123456789');
  },
);
