/**
 * A start step that fails after others opened things (the agent API listening, the inbox and
 * its scheduler started, the pool up) must close them before the error is thrown: the API port
 * is free again and the process can end with its exit code instead of serving /healthz forever.
 *
 * The failing step is the relay client's start without a connector URL: `run` refuses that
 * earlier, but `Sidecar.start` itself checks it last, after the API listens.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { RelayError } from '../../../core/errors.js';
import { createLogger } from '../../../core/log/logger.js';
import { Sidecar } from '../../../sidecar/app.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { testConfig } from '../../helpers/test-config.js';
import { CHILD_WAIT_MS, PLUGINS } from './sidecar-child.js';

const CHILD = join(repoRoot(), 'dist', 'test', 'sidecar', 'lifecycle', 'start-failure-child.js');
const TOKEN = 'start-failure-api-token-0123456789';

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((ok) => probe.close(() => ok()));
  return port;
}

/** True when a server can bind `port` on loopback now (it is closed again at once). */
async function canBind(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise<boolean>((ok) => {
    probe.once('error', () => ok(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => ok(true)));
  });
}

/** A config whose start fails at the last step (no relay URL), with the API on `port`. */
function lastStepFails(t: ExecutionContext, port: number): Record<string, unknown> {
  return {
    api: { listen: `127.0.0.1:${port}`, token: TOKEN },
    agent: { mode: 'pull' },
    dataDir: tempDir(t),
    pluginsPath: PLUGINS,
  };
}

/** Start in this process; the error code of the refused start (undefined if it started). */
async function refusedCode(config: Record<string, unknown>): Promise<string | undefined> {
  const log = createLogger({ level: 'silent' });
  try {
    await (await Sidecar.start(testConfig(config), { log, offline: true })).stop();
    return undefined;
  } catch (err) {
    return (err as RelayError).code;
  }
}

/**
 * SQLite files still in WAL mode in `dir`: the last connection to close removes its `-wal`, so
 * one left behind means a store (the inbox's or the plugin host's) was never closed.
 */
function openStores(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('-wal'));
}

test('a start that fails after the API listens leaves the port free and every store closed', async (t) => {
  const port = await freePort();
  const config = lastStepFails(t, port);
  t.is(await refusedCode(config), 'CORE_ERR_CONFIG_INVALID');
  t.true(await canBind(port), 'the agent API still listens after the failed start');
  t.deepEqual(openStores(config.dataDir as string), []);
});

test('a start that fails before the API opens (unusable token file) closes the plugin host', async (t) => {
  const dataDir = tempDir(t);
  // a directory where the token file should be: the token step fails after the pool started
  mkdirSync(join(dataDir, 'api-token'));
  const config = { api: { listen: '127.0.0.1:0' }, agent: { mode: 'pull' }, dataDir, pluginsPath: PLUGINS };
  t.is(await refusedCode(config), 'CORE_ERR_API_TOKEN_FILE_UNUSABLE');
  t.deepEqual(openStores(dataDir), []);
});

/** Run the child on `config`; resolves with its exit code and stdout, or rejects if it stays up. */
function runChild(
  t: ExecutionContext,
  config: Record<string, unknown>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(config)], {
      cwd: repoRoot(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the process stayed up ${CHILD_WAIT_MS} ms after the start failed: ${out}`));
    }, CHILD_WAIT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('after a start that fails late, the process ends on its own with the exit code', async (t) => {
  const run = await runChild(t, lastStepFails(t, await freePort()));
  t.is(run.out.trim(), 'refused CORE_ERR_CONFIG_INVALID');
  t.is(run.code, 2);
});
