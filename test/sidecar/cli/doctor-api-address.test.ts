/**
 * doctor's `api address` check of a unix socket agrees with what `run` does when it binds there,
 * where it said ✓ and `run` then exited 2 with CORE_ERR_API_LISTEN_FAILED: a path taken by another
 * kind of file is ✗; a socket directory that does not exist is ! (operations.md: it must exist
 * when `run` starts; systemd's RuntimeDirectory= creates it only then).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { parseListenAddress } from '../../../core/config/listen-address.js';
import { RelayError } from '../../../core/errors.js';
import { bindServer } from '../../../sidecar/agent-api/bind-address.js';
import { type CheckStatus, checkApiAddress, formatCheck } from '../../../sidecar/cli/doctor-checks.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** What `run` meets: the bind's error code, or 'bound'. */
async function bindOutcome(t: ExecutionContext, listen: string): Promise<string> {
  const server = createServer();
  t.teardown(() => server.close());
  try {
    await bindServer(server, parseListenAddress(listen));
    return 'bound';
  } catch (err) {
    return err instanceof RelayError ? err.code : String(err);
  }
}

test('a socket in a directory that does not exist (!), or on a path that is not a socket (✗): run refuses both', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'api.sock'), 'not a socket');
  writeFileSync(join(dir, 'file'), 'not a directory');
  const cases: [string, CheckStatus, RegExp][] = [
    [
      join(dir, 'missing', 'api.sock'),
      'warn',
      /directory .* does not exist.*Fix: create it .*RuntimeDirectory=/,
    ],
    [join(dir, 'api.sock'), 'fail', /the path exists and is not a socket.*Fix: remove it/],
    [join(dir, 'file', 'api.sock'), 'fail', /is not a directory.*Fix: set SIDECAR_LISTEN/],
  ];
  for (const [path, status, line] of cases) {
    const listen = `unix:${path}`;
    t.is(await bindOutcome(t, listen), 'CORE_ERR_API_LISTEN_FAILED', path);
    const check = checkApiAddress(listen);
    t.is(check.status, status, path);
    t.regex(formatCheck(check), line, path);
  }
});

test('a socket in an existing directory, or the socket of a running sidecar: ✓', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'run'), { mode: 0o700 });
  const listen = `unix:${join(dir, 'run', 'api.sock')}`;
  t.is(checkApiAddress(listen).status, 'ok');
  // doctor runs beside a running sidecar too: its socket is not a problem
  const server = createServer();
  t.teardown(() => server.close());
  await bindServer(server, parseListenAddress(listen));
  t.is(checkApiAddress(listen).status, 'ok', 'a running sidecar');
});
