/** The error helpers every module shares: messages of anything thrown, plain error data. */
import test from 'ava';
import { errorMessage, RelayError, toErrorData } from '../../core/errors.js';
import { redactValues } from '../../core/secret-matcher.js';

test('errorMessage: an Error or error-like object gives its message, anything else its string form', (t) => {
  t.is(errorMessage(new TypeError('bad input')), 'bad input');
  t.is(errorMessage(new RelayError('CORE_ERR_STORE_OPEN_FAILED', 'cannot open')), 'cannot open');
  t.is(errorMessage('plain text'), 'plain text');
  t.is(errorMessage(42), '42');
  t.is(errorMessage(undefined), 'undefined');
  t.is(errorMessage({ message: 'thrown as a plain object' }), 'thrown as a plain object');
  t.is(errorMessage({ message: 7 }), '[object Object]', 'a message that is not a string is not taken');
  t.is(errorMessage(null), 'null');
});

test('toErrorData: a RelayError keeps its code; a coded object its known code; the rest the fallback', (t) => {
  t.deepEqual(toErrorData(new RelayError('CORE_ERR_PLUGIN_THREW', 'boom'), 'CORE_ERR_PLUGIN_WORKER_DIED'), {
    code: 'CORE_ERR_PLUGIN_THREW',
    message: 'boom',
  });
  t.deepEqual(toErrorData({ code: 'CORE_ERR_PLUGIN_TIMEOUT', message: 'late' }, 'CORE_ERR_PLUGIN_THREW'), {
    code: 'CORE_ERR_PLUGIN_TIMEOUT',
    message: 'late',
  });
  t.deepEqual(toErrorData({ code: 'ENOENT', message: 'gone' }, 'CORE_ERR_PLUGIN_THREW'), {
    code: 'CORE_ERR_PLUGIN_THREW',
    message: 'gone',
  });
  t.deepEqual(toErrorData(new Error('plain'), 'CORE_ERR_PLUGIN_THREW'), {
    code: 'CORE_ERR_PLUGIN_THREW',
    message: 'plain',
  });
});

test('redactValues takes out each known secret, and the start of one that a bound cut off', (t) => {
  const token = 'Z3ctMToxNzk1ODQyMTMyOjZjM2Q4MDQ3MTk3NzY3NjM1YTQw';
  t.is(
    redactValues(`bad token ${token} (twice: ${token})`, [token]),
    'bad token [redacted] (twice: [redacted])',
  );
  // a close reason or a message cut at its bound ends in part of the token
  t.is(redactValues(`refused ${token}`.slice(0, 30), [token]), 'refused [redacted]');
  // short values and short trailing starts are left: they would turn ordinary words into noise
  t.is(redactValues('a key abc and Z3ctMTo', ['abc', undefined, '', token]), 'a key abc and Z3ctMTo');
});
