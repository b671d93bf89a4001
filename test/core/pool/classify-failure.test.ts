import test from 'ava';
import { classifyFailure, type FailureFacts } from '../../../core/pool/classify-failure.js';

const facts = (over: Partial<FailureFacts> = {}): FailureFacts => ({
  timedOut: false,
  started: true,
  closing: false,
  timeoutMs: 100,
  ...over,
});

test('a started task whose timer fired timed out', (t) => {
  t.is(classifyFailure(new Error('aborted'), facts({ timedOut: true })).code, 'CORE_ERR_PLUGIN_TIMEOUT');
});

test('a timeout says what to do: raise the timeoutMs of the entry or pool.taskTimeoutMs, or a faster hook', (t) => {
  // was: "hook did not finish within 100 ms; its worker was terminated", and no next step
  const { code, message } = classifyFailure(new Error('aborted'), facts({ timedOut: true }));
  t.is(code, 'CORE_ERR_PLUGIN_TIMEOUT');
  t.regex(message, /within 100 ms/);
  t.regex(message, /"timeoutMs" in plugins\.json/);
  t.regex(message, /pool\.taskTimeoutMs/);
  t.regex(message, /lazily/);
});

test('a task that never started before its timer fired is saturation', (t) => {
  t.is(
    classifyFailure(new Error('aborted'), facts({ timedOut: true, started: false })).code,
    'CORE_ERR_PLUGIN_POOL_SATURATED',
  );
});

test('a task rejected while the pool closes is closed', (t) => {
  t.is(
    classifyFailure(new Error('Terminating worker thread'), facts({ closing: true })).code,
    'CORE_ERR_PLUGIN_POOL_CLOSED',
  );
});

test('out of memory and exits are worker deaths', (t) => {
  const oom = Object.assign(new Error('Worker terminated due to reaching memory limit'), {
    code: 'ERR_WORKER_OUT_OF_MEMORY',
  });
  t.is(classifyFailure(oom, facts()).code, 'CORE_ERR_PLUGIN_WORKER_DIED');
  const exit = classifyFailure(new Error('worker exited with code: 1'), facts());
  t.is(exit.code, 'CORE_ERR_PLUGIN_WORKER_DIED');
  t.regex(exit.message, /code: 1/);
});

test("piscina's queue-limit errors are saturation", (t) => {
  t.is(classifyFailure(new Error('Task queue is at limit'), facts()).code, 'CORE_ERR_PLUGIN_POOL_SATURATED');
  t.is(
    classifyFailure(new Error('No task queue available and all Workers are busy'), facts()).code,
    'CORE_ERR_PLUGIN_POOL_SATURATED',
  );
});

test('anything else (an uncaught error in the worker) is a worker death', (t) => {
  t.is(classifyFailure(new TypeError('stray'), facts()).code, 'CORE_ERR_PLUGIN_WORKER_DIED');
  t.is(classifyFailure('not an error', facts()).code, 'CORE_ERR_PLUGIN_WORKER_DIED');
});

test('a worker dying before it started the task it had (while importing the plugins) is a boot failure', (t) => {
  const oom = Object.assign(new Error('Worker terminated due to reaching memory limit'), {
    code: 'ERR_WORKER_OUT_OF_MEMORY',
  });
  const died = classifyFailure(oom, facts({ started: false }));
  t.is(died.code, 'CORE_ERR_PLUGIN_WORKER_BOOT_FAILED');
  t.regex(died.message, /importing the plugins.*out of memory/);
  const exit = classifyFailure(new Error('worker exited with code: 7'), facts({ started: false }));
  t.is(exit.code, 'CORE_ERR_PLUGIN_WORKER_BOOT_FAILED');
  t.regex(exit.message, /code: 7/);
  t.is(
    classifyFailure(new TypeError('stray'), facts({ started: false })).code,
    'CORE_ERR_PLUGIN_WORKER_DIED',
  );
});
