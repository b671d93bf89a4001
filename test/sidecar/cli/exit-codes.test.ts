import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { ExitCode, exitCodeFor } from '../../../sidecar/cli/exit-codes.js';

const enrollErr = (details: Record<string, unknown>) =>
  new RelayError('CORE_ERR_ENROLL_FAILED', 'x', { details: { route: 'enroll', ...details } });

test('exit codes are the documented numbers', (t) => {
  t.deepEqual(ExitCode, { OK: 0, FAILURE: 1, CONFIG: 2, REVOKED: 3, AUTH: 4, UNREACHABLE: 5, NOT_FOUND: 6 });
});

test('exitCodeFor maps by code and details, never by message', (t) => {
  t.is(exitCodeFor(new RelayError('CORE_ERR_CONFIG_INVALID', 'x')), ExitCode.CONFIG);
  t.is(exitCodeFor(new RelayError('CORE_ERR_TRANSPORT_REVOKED', 'x')), ExitCode.REVOKED);
  t.is(exitCodeFor(enrollErr({ kind: 'http', status: 401 })), ExitCode.AUTH);
  t.is(exitCodeFor(enrollErr({ kind: 'http', status: 403 })), ExitCode.AUTH);
  t.is(exitCodeFor(enrollErr({ kind: 'http', status: 500 })), ExitCode.AUTH);
  t.is(exitCodeFor(enrollErr({ kind: 'http', status: 504 })), ExitCode.UNREACHABLE);
  t.is(exitCodeFor(enrollErr({ kind: 'timeout' })), ExitCode.UNREACHABLE);
  t.is(exitCodeFor(enrollErr({ kind: 'unreachable' })), ExitCode.UNREACHABLE);
  t.is(exitCodeFor(enrollErr({ kind: 'redirect', status: 302 })), ExitCode.CONFIG);
  t.is(exitCodeFor(enrollErr({ kind: 'bad-url' })), ExitCode.CONFIG);
  t.is(exitCodeFor(enrollErr({ kind: 'bad-response', status: 200 })), ExitCode.AUTH);
  t.is(exitCodeFor(new Error('boom')), ExitCode.FAILURE);
  t.is(exitCodeFor(new RelayError('CORE_ERR_STORE_OPEN_FAILED', 'x')), ExitCode.CONFIG);
  t.is(exitCodeFor(new RelayError('CORE_ERR_STORE_SCHEMA_TOO_NEW', 'x')), ExitCode.CONFIG);
  t.is(exitCodeFor(new RelayError('CORE_ERR_PLUGIN_LOAD_FAILED', 'x')), ExitCode.CONFIG);
  t.is(exitCodeFor(new RelayError('CORE_ERR_INBOX_COMMIT_FAILED', 'x')), ExitCode.FAILURE);
});
