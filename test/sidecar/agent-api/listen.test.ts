import { spawn } from 'node:child_process';
import { lstatSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import {
  formatListenAddress,
  isLoopbackHost,
  type ListenAddress,
  parseListenAddress,
} from '../../../core/config/listen-address.js';
import { RelayError } from '../../../core/errors.js';
import { startApi, TEST_TOKEN, tempDir } from './api-harness.js';

const PARSE_CASES: [string, ListenAddress][] = [
  ['127.0.0.1:7700', { kind: 'tcp', host: '127.0.0.1', port: 7700 }],
  ['localhost:0', { kind: 'tcp', host: 'localhost', port: 0 }],
  ['[::1]:8080', { kind: 'tcp', host: '::1', port: 8080 }],
  ['0.0.0.0:65535', { kind: 'tcp', host: '0.0.0.0', port: 65535 }],
  ['unix:/run/sidecar.sock', { kind: 'unix', path: '/run/sidecar.sock' }],
  [' 127.0.0.1:1 ', { kind: 'tcp', host: '127.0.0.1', port: 1 }],
];
for (const [raw, want] of PARSE_CASES) {
  test(`parseListenAddress(${JSON.stringify(raw)})`, (t) => {
    t.deepEqual(parseListenAddress(raw), want);
  });
}

for (const raw of [
  '7700',
  ':7700',
  '127.0.0.1',
  '127.0.0.1:port',
  '127.0.0.1:70000',
  '::1:80',
  '[zz]:80',
  'unix:',
]) {
  test(`parseListenAddress rejects ${JSON.stringify(raw)} naming the key`, (t) => {
    const err = t.throws(() => parseListenAddress(raw), { instanceOf: RelayError });
    t.is((err as RelayError).code, 'CORE_ERR_CONFIG_INVALID');
    t.true((err as RelayError).message.includes('SIDECAR_LISTEN'));
  });
}

test('loopback detection', (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])
    t.true(isLoopbackHost(h), h);
  t.true(isLoopbackHost('[::1]'), 'bracketed, as URL.hostname gives it');
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com', '128.0.0.1']) t.false(isLoopbackHost(h), h);
  t.is(formatListenAddress({ kind: 'tcp', host: '::1', port: 80 }), '[::1]:80');
});

/** GET over a unix socket. */
function unixGet(
  socketPath: string,
  path: string,
  token?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Leave a stale socket file at `path`: a child process binds it and is killed with SIGKILL. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`,
  ]);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('error', reject);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

test('listens on a unix socket with mode 0600, replacing a stale socket file', async (t) => {
  const path = join(tempDir(t), 'api.sock');
  await staleSocket(path);
  t.true(lstatSync(path).isSocket());
  const first = await startApi(t, { config: { api: { listen: `unix:${path}` } } });
  t.deepEqual(first.api.address(), { kind: 'unix', path });
  if (process.platform !== 'win32') t.is(statSync(path).mode & 0o777, 0o600);
  const res = await unixGet(path, '/v1/status', TEST_TOKEN);
  t.is(res.status, 200);
  t.is((JSON.parse(res.body) as { state: string }).state, 'ready');
  t.is((await unixGet(path, '/v1/status')).status, 401);
});

test('a live unix socket is never stolen: CORE_ERR_API_LISTEN_FAILED', async (t) => {
  const path = join(tempDir(t), 'busy.sock');
  const live = createServer();
  await new Promise<void>((resolve) => live.listen(path, resolve));
  t.teardown(() => new Promise<void>((resolve) => live.close(() => resolve())));
  const h = await startApi(t, { config: { api: { listen: `unix:${path}` } }, listen: false });
  const err = await t.throwsAsync(h.api.listen(), { instanceOf: RelayError });
  t.is((err as RelayError).code, 'CORE_ERR_API_LISTEN_FAILED');
  t.true((err as RelayError).message.includes(path));
});

test('a regular file at the socket path is refused, not deleted', async (t) => {
  const path = join(tempDir(t), 'not-a-socket');
  writeFileSync(path, 'precious');
  const h = await startApi(t, { config: { api: { listen: `unix:${path}` } }, listen: false });
  const err = await t.throwsAsync(h.api.listen(), { instanceOf: RelayError });
  t.is((err as RelayError).code, 'CORE_ERR_API_LISTEN_FAILED');
  t.true(statSync(path).isFile());
});

test('a port in use ⇒ CORE_ERR_API_LISTEN_FAILED naming the address', async (t) => {
  const first = await startApi(t);
  const port = (first.api.address() as { port: number }).port;
  const second = await startApi(t, { config: { api: { listen: `127.0.0.1:${port}` } }, listen: false });
  const err = await t.throwsAsync(second.api.listen(), { instanceOf: RelayError });
  t.is((err as RelayError).code, 'CORE_ERR_API_LISTEN_FAILED');
  t.true((err as RelayError).message.includes(`127.0.0.1:${port}`));
  // was: "… on 127.0.0.1:<port>: EADDRINUSE", the errno alone
  t.regex(
    (err as RelayError).message,
    /: EADDRINUSE: another process listens there \(another relay-sidecar\?\); stop it, or set SIDECAR_LISTEN to a free port$/,
  );
});

test('a unix socket in a directory that does not exist ⇒ the message says so (the errno is EACCES)', async (t) => {
  const dir = join(tempDir(t), 'missing');
  const h = await startApi(t, {
    config: { api: { listen: `unix:${join(dir, 'api.sock')}` } },
    listen: false,
  });
  const err = await t.throwsAsync(h.api.listen(), { instanceOf: RelayError });
  t.is((err as RelayError).code, 'CORE_ERR_API_LISTEN_FAILED');
  // was: "… on unix:<path>: EACCES", which sent the operator after permissions
  t.regex(
    (err as RelayError).message,
    new RegExp(
      `: the directory ${dir} does not exist \\(listen answered EACCES\\); create it \\(mode 0700\\) or choose another path$`,
    ),
  );
});

test('a non-loopback listen address is refused (CORE_ERR_API_LISTEN_FAILED), nothing bound', async (t) => {
  for (const listen of ['0.0.0.0:0', '[::]:0']) {
    const h = await startApi(t, { config: { api: { listen } }, listen: false });
    const err = await t.throwsAsync(h.api.listen(), { instanceOf: RelayError });
    t.is((err as RelayError).code, 'CORE_ERR_API_LISTEN_FAILED');
    t.regex((err as RelayError).message, /not a loopback address/);
    t.is(h.api.address(), undefined);
  }
});

test('close() is bounded: a hung request is cut after the budget', async (t) => {
  const h = await startApi(t);
  h.client.reply = () => new Promise(() => {}); // never answers
  const pending = h
    .call('/v1/actions', { method: 'POST', body: JSON.stringify({ op: 'send', chat_id: 'C', content: 'x' }) })
    .then(
      () => 'answered',
      () => 'cut',
    );
  // wait until the request is in flight
  while (h.client.sent.length === 0) await new Promise((r) => setTimeout(r, 5));
  await h.api.close(50);
  t.is(await pending, 'cut');
});
