/**
 * doctor's `api token` check looks at the token file as `run` opens it, without following a
 * symbolic link: a link in its place (to a 0600 file) was ✓, and `run` then exited 2 with
 * CORE_ERR_API_TOKEN_FILE_UNUSABLE.
 */
import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { validateConfig } from '../../../core/config/load.js';
import { RelayError } from '../../../core/errors.js';
import { createLogger } from '../../../core/log/logger.js';
import { API_TOKEN_FILE, ensureApiToken } from '../../../sidecar/agent-api/api-token.js';
import { checkApiToken } from '../../../sidecar/cli/doctor-permissions.js';
import { tempDir } from '../../helpers/temp-dir.js';

const TOKEN = '0123456789abcdef0123456789abcdef';

test('a symbolic link in place of the token file is ✗, as run refuses it', (t) => {
  const dataDir = tempDir(t);
  const target = join(tempDir(t), 'elsewhere');
  writeFileSync(target, `${TOKEN}\n`);
  chmodSync(target, 0o600);
  symlinkSync(target, join(dataDir, API_TOKEN_FILE));
  const config = validateConfig({ dataDir, agent: { mode: 'pull' } });

  const err = t.throws(() => ensureApiToken(dataDir, createLogger({ level: 'silent' })), {
    instanceOf: RelayError,
  });
  t.is(err?.code, 'CORE_ERR_API_TOKEN_FILE_UNUSABLE');
  const check = checkApiToken(config, dataDir);
  t.is(check.status, 'fail');
  t.regex(check.detail, /not a regular file/);
});

test('a regular 0600 token file is ✓, as run loads it', (t) => {
  const dataDir = tempDir(t);
  const path = join(dataDir, API_TOKEN_FILE);
  writeFileSync(path, `${TOKEN}\n`);
  chmodSync(path, 0o600);
  const config = validateConfig({ dataDir, agent: { mode: 'pull' } });
  t.is(ensureApiToken(dataDir, createLogger({ level: 'silent' })), TOKEN);
  t.is(checkApiToken(config, dataDir).status, 'ok');
});
