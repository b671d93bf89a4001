import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ERROR_CODES, RelayError, toErrorData } from '../../core/errors.js';
import { API_ERROR_CODES } from '../../sidecar/agent-api/errors.js';
import { repoRoot } from '../helpers/repo-root.js';

const doc = readFileSync(join(repoRoot(), 'docs', 'errors.md'), 'utf8');
const documented = new Set([...doc.matchAll(/^\|\s*`(CORE_ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1] ?? ''));

test('every error code has a row in docs/errors.md', (t) => {
  const missing = Object.keys(ERROR_CODES).filter((code) => !documented.has(code));
  t.deepEqual(missing, []);
});

test('docs/errors.md lists no code that does not exist', (t) => {
  const stale = [...documented].filter((code) => !(code in ERROR_CODES));
  t.deepEqual(stale, []);
});

test('codes follow CORE_ERR_<AREA>_<WHAT>', (t) => {
  for (const code of Object.keys(ERROR_CODES)) t.regex(code, /^CORE_ERR_[A-Z]+_[A-Z0-9_]+$/);
});

test('errors cross boundaries as plain {code, message}', (t) => {
  const err = new RelayError('CORE_ERR_PLUGIN_THREW', 'boom');
  t.deepEqual(toErrorData(err, 'CORE_ERR_ROUTER_HANDLER_FAILED'), {
    code: 'CORE_ERR_PLUGIN_THREW',
    message: 'boom',
  });
  t.deepEqual(toErrorData(new TypeError('x'), 'CORE_ERR_PLUGIN_THREW'), {
    code: 'CORE_ERR_PLUGIN_THREW',
    message: 'x',
  });
  t.deepEqual(toErrorData({ code: 'CORE_ERR_PLUGIN_TIMEOUT', message: 'late' }, 'CORE_ERR_PLUGIN_THREW'), {
    code: 'CORE_ERR_PLUGIN_TIMEOUT',
    message: 'late',
  });
  t.deepEqual(toErrorData('str', 'CORE_ERR_PLUGIN_THREW'), { code: 'CORE_ERR_PLUGIN_THREW', message: 'str' });
});

test('every agent API answer code has a row in docs/errors.md', (t) => {
  const missing = Object.keys(API_ERROR_CODES).filter((code) => !doc.includes(`| \`${code}\` |`));
  t.deepEqual(missing, []);
});
