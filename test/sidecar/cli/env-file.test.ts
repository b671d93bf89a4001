import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import {
  checkEnvFileWritable,
  formatEnvValue,
  mergeEnvText,
  parseEnvText,
  withEnvFile,
  writeEnvFileAtomic,
} from '../../../sidecar/cli/env-file.js';
import { tempDir as tempDirOf } from '../../helpers/temp-dir.js';

function tempDir(t: import('ava').ExecutionContext): string {
  return tempDirOf(t, 'relay-env-');
}

test('formatEnvValue: bare when safe, quoted otherwise, newlines refused', (t) => {
  t.is(formatEnvValue('ab12ef'), 'ab12ef');
  t.is(formatEnvValue('https://c.example:8443/api?x=1'), "'https://c.example:8443/api?x=1'");
  t.is(formatEnvValue('wss://c.example/relay'), 'wss://c.example/relay');
  t.is(formatEnvValue('has space'), "'has space'");
  t.is(formatEnvValue('say "$(x)"'), '\'say "$(x)"\'');
  // single quotes cannot hold a ', and inside double quotes a shell would run the $(…)
  t.throws(() => formatEnvValue("s3cr3t'$(touch /tmp/pwned)"), { message: /contains a '/ });
  t.throws(() => formatEnvValue('gw\u001b]0;title\u0007'), { message: /control character/ });
  t.is(formatEnvValue(''), '');
  const err = t.throws(() => formatEnvValue('a\nb'));
  t.is((err as RelayError).code, 'CORE_ERR_ENV_FILE_WRITE_FAILED');
});

test('mergeEnvText keeps other lines, replaces in place, drops later duplicates, appends new keys', (t) => {
  const existing = [
    '# my settings',
    'AGENT_URL=http://127.0.0.1:9000/hook',
    'export GATEWAY_RELAY_ID=old-id',
    '',
    'GATEWAY_RELAY_SECRET=old-secret',
    'GATEWAY_RELAY_ID=shadowing-duplicate',
    'LOG_LEVEL=debug',
  ].join('\n');
  const merged = mergeEnvText(`${existing}\n`, [
    ['GATEWAY_RELAY_ID', 'gw-new'],
    ['GATEWAY_RELAY_SECRET', 'new-secret'],
    ['GATEWAY_RELAY_URL', 'https://c.example'],
  ]);
  t.is(
    merged,
    [
      '# my settings',
      'AGENT_URL=http://127.0.0.1:9000/hook',
      'GATEWAY_RELAY_ID=gw-new',
      '',
      'GATEWAY_RELAY_SECRET=new-secret',
      'LOG_LEVEL=debug',
      'GATEWAY_RELAY_URL=https://c.example',
      '',
    ].join('\n'),
  );
  t.is(mergeEnvText('', [['A', '1']]), 'A=1\n');
});

test('parseEnvText reads what mergeEnvText writes, and common dotenv forms', (t) => {
  const text = mergeEnvText('# c\nexport X=1 # trailing\nY="a\\"b\\nc"\n', [
    ['Q', 'with space'],
    ['S', 'deadbeef'],
  ]);
  t.deepEqual(parseEnvText(text), { X: '1', Y: 'a"b\nc', Q: 'with space', S: 'deadbeef' });
  t.deepEqual(parseEnvText("A='lit $x \\n'\nA=2\nnot a line"), { A: '2' });
});

test('a trailing comment ends an unquoted value, and a long run of spaces is read in one pass', (t) => {
  t.deepEqual(parseEnvText('A=1 # c\nB=x#y\nC=two words\t# tab\nD=#not-a-comment'), {
    A: '1',
    B: 'x#y',
    C: 'two words',
    D: '#not-a-comment',
  });
  // a million spaces and no comment: the old pattern retried the run from each of its positions
  t.deepEqual(parseEnvText(`E=a${' '.repeat(1_000_000)}b`), { E: `a${' '.repeat(1_000_000)}b` });
});

test('writeEnvFileAtomic creates a 0600 file and tightens an existing 0644 one, leaving no temp files', (t) => {
  const dir = tempDir(t);
  const path = join(dir, '.env.relay');
  writeFileSync(path, 'OLD=1\n', { mode: 0o644 });
  chmodSync(path, 0o644);
  writeEnvFileAtomic(path, 'NEW=2\n');
  t.is(readFileSync(path, 'utf8'), 'NEW=2\n');
  t.is(statSync(path).mode & 0o777, 0o600);
  t.deepEqual(readdirSync(dir), ['.env.relay']);
  const fresh = join(dir, 'fresh.env');
  writeEnvFileAtomic(fresh, 'A=1\n');
  t.is(statSync(fresh).mode & 0o777, 0o600);
});

test('an unwritable directory fails the pre-flight check with a stable code', (t) => {
  const dir = tempDir(t);
  const err = t.throws(() => checkEnvFileWritable(join(dir, 'missing-dir', '.env.relay')));
  t.is((err as RelayError).code, 'CORE_ERR_ENV_FILE_WRITE_FAILED');
  t.notThrows(() => checkEnvFileWritable(join(dir, '.env.relay')));
  t.deepEqual(readdirSync(dir), []);
});

test('an env file any local user may change is refused: it holds the relay secret and names the plugins', (t) => {
  const dir = tempDir(t);
  const file = join(dir, '.env');
  writeFileSync(file, 'LOG_LEVEL=debug\n');
  chmodSync(file, 0o666);
  // was: read; anyone could set SIDECAR_PLUGINS or AGENT_URL for the next start
  const err = t.throws(() => withEnvFile({}, dir, '.env'), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_CONFIG_INVALID');
  t.true(
    err?.message.endsWith(
      `env file ${file}: ${file} is writable by every local user (mode 0666): anyone could run code as the sidecar; chmod o-w ${file}`,
    ),
    err?.message,
  );
  chmodSync(file, 0o600);
  t.is(withEnvFile({}, dir, '.env').LOG_LEVEL, 'debug');
});

test("a shell's bare `export NAME` line is taken like docker's bare NAME (it sets nothing), not refused", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), 'export PATH\nexport LOG_LEVEL=debug\nSIDECAR_DATA_DIR\n', {
    mode: 0o600,
  });
  // was: "line 1 is not KEY=value", a file a shell sources without complaint
  t.is(withEnvFile({}, dir, '.env').LOG_LEVEL, 'debug');
  writeFileSync(join(dir, '.env'), 'export LOG_LEVEL debug\n', { mode: 0o600 });
  t.throws(() => withEnvFile({}, dir, '.env'), { message: /line 1 is not KEY=value/ });
});
