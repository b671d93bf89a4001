import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import BetterSqlite3 from 'better-sqlite3';
import { databasePath, migrate, openDatabase } from '../../../core/store/database.js';
import { KV_MIGRATIONS } from '../../../core/store/kv-migrations.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { type DoctorOptions, runDoctor } from '../../../sidecar/cli/doctor-command.js';
import { dialCheck } from '../../../sidecar/cli/doctor-dial.js';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { DevConnector, defaultDescriptor } from '../../../sidecar/dev-connector/index.js';
import { INBOX_MIGRATIONS } from '../../../sidecar/inbox/inbox-migrations.js';
import { listenOnFetchBadPort } from '../../helpers/bad-port.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { closedPort } from '../side-routes/loopback.js';
import { type TestIo, testIo } from './cli-harness.js';

const CLI = join(repoRoot(), 'dist', 'sidecar', 'cli', 'main.js');
const SECRET = 'doctor-secret-5d41402abc4b2a76';
const ALL_PLUGINS = ['scope-reattacher', 'follow-up', 'discord-interaction', 'twilio'];

/** A manifest in `dir` naming the built plugins by absolute path. */
function manifest(dir: string, plugins: { name: string; enabled?: boolean; module?: string }[]): string {
  const path = join(dir, 'plugins.json');
  const entries = plugins.map((p) => ({
    name: p.name,
    module: p.module ?? join(repoRoot(), 'dist', 'plugins', p.name, 'index.js'),
    enabled: p.enabled ?? true,
  }));
  writeFileSync(path, JSON.stringify({ apiVersion: 1, plugins: entries }));
  return path;
}

async function devConnector(t: ExecutionContext, secrets: string[] = [SECRET]): Promise<DevConnector> {
  const dc = await DevConnector.start({ secrets });
  t.teardown(() => dc.close());
  return dc;
}

/** A test io whose env points at `url`, a data dir in its temp cwd and a scope-reattacher manifest. */
function doctorIo(t: ExecutionContext, env: Record<string, string | undefined>): TestIo {
  const io = testIo(t);
  const base: Record<string, string> = {
    SIDECAR_DATA_DIR: join(io.cwd, 'data'),
    SIDECAR_PLUGINS: manifest(io.cwd, [{ name: 'scope-reattacher' }]),
    GATEWAY_RELAY_ID: 'gw-doc',
    GATEWAY_RELAY_SECRET: SECRET,
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  Object.assign(io.env, base);
  return io;
}

/** The printed check lines by name: mark and text. */
function checks(out: string): Map<string, { mark: string; line: string }> {
  const map = new Map<string, { mark: string; line: string }>();
  for (const line of out.split('\n')) {
    const m = /^([✓✗!]) (.+?) — /.exec(line);
    if (m) map.set(m[2]!, { mark: m[1]!, line });
  }
  return map;
}

async function doctor(t: ExecutionContext, io: TestIo, opts: DoctorOptions = {}) {
  // roomy: a loaded CI machine may need seconds for a handshake; tests of the timeout pass their own
  const code = await runDoctor({ timeoutMs: 10_000, ...opts }, io);
  const found = checks(io.out);
  t.false(io.out.includes(SECRET), 'the secret is never printed');
  return { code, found, mark: (name: string) => found.get(name)?.mark };
}

test('all good: every check passes with the real dev connector, the dial stops after the handshake', async (t) => {
  const dc = await devConnector(t);
  const io = doctorIo(t, {
    GATEWAY_RELAY_URL: dc.url,
    SIDECAR_PLUGINS: manifest(
      testIo(t).cwd,
      ALL_PLUGINS.map((name) => ({ name })),
    ),
  });
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.OK, io.out);
  for (const name of ['config', 'connector url', 'credentials', 'manifest', 'plugins', 'scope-reattacher']) {
    t.is(r.mark(name), '✓', name);
  }
  for (const name of ['data dir', 'api token', 'agent', 'connector']) t.is(r.mark(name), '✓', name);
  t.regex(r.found.get('plugins')!.line, /twilio/);
  t.regex(io.out, /doctor: all \d+ checks passed/);
  t.like(dc.upgrades[0], { authorized: true, gatewayId: 'gw-doc' });
  t.true(dc.frames.some((f) => f.dir === 'in' && f.frame.type === 'hello'));
  await waitUntil(() => dc.connectionCount() === 0);
  t.false(
    dc.frames.some((f) => f.dir === 'in' && f.frame.type !== 'hello'),
    'nothing but hellos is sent',
  );
});

test('a wrong secret is ✗ connector with a fix and exit 4 (AUTH), distinct from unreachable', async (t) => {
  const dc = await devConnector(t, ['the-connector-knows-another-secret']);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.AUTH);
  const line = r.found.get('connector')!.line;
  t.is(r.mark('connector'), '✗');
  t.regex(line, /4401 invalid.*Fix: /);
  t.is(dc.totalConnections(), 0);
  t.is(dc.upgrades.length, 1, 'one dial, no retry loop');
});

test('every fronted identity is waited for: all descriptors are named, a missing one is a warning naming it', async (t) => {
  const dc = await DevConnector.start({
    secrets: [SECRET],
    descriptorFor: (hello) => (hello.platform === 'twilio' ? null : defaultDescriptor(hello.platform)),
  });
  t.teardown(() => dc.close());
  const both = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, GATEWAY_RELAY_PLATFORMS: 'discord,slack' });
  const r = await doctor(t, both);
  // was: "descriptor for discord": the state is ready at the first descriptor, and doctor stopped there
  t.regex(r.found.get('connector')!.line, /^✓ connector — handshake .*; descriptors for discord, slack$/);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, GATEWAY_RELAY_PLATFORMS: 'discord,twilio' });
  const r2 = await doctor(t, io, { timeoutMs: 3_000 });
  t.is(r2.code, ExitCode.OK, io.out);
  t.regex(
    r2.found.get('connector')!.line,
    /^! connector — handshake .*; descriptor for discord, none for twilio within 3000 ms\. Fix: check that the connector fronts twilio/,
  );
});

test('an unreachable connector is ✗ connector with exit 5 (UNREACHABLE)', async (t) => {
  const port = await closedPort();
  const io = doctorIo(t, { GATEWAY_RELAY_URL: `http://127.0.0.1:${port}` });
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.UNREACHABLE);
  t.is(r.mark('connector'), '✗');
  t.regex(r.found.get('connector')!.line, /ECONNREFUSED.*Fix: /);
});

test('no credentials: a warning (dev only), the open connector still passes; a locked one says 4401 missing', async (t) => {
  const open = await devConnector(t, []);
  const io = doctorIo(t, {
    GATEWAY_RELAY_URL: open.url,
    GATEWAY_RELAY_ID: undefined,
    GATEWAY_RELAY_SECRET: undefined,
  });
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.OK, io.out);
  t.is(r.mark('credentials'), '!');
  t.regex(r.found.get('credentials')!.line, /unauthenticated.*Fix: /);
  t.is(r.mark('connector'), '✓');

  const locked = await devConnector(t);
  const io2 = doctorIo(t, {
    GATEWAY_RELAY_URL: locked.url,
    GATEWAY_RELAY_ID: undefined,
    GATEWAY_RELAY_SECRET: undefined,
  });
  const r2 = await doctor(t, io2);
  t.is(r2.code, ExitCode.AUTH);
  t.regex(r2.found.get('connector')!.line, /4401 missing/);
});

test('half the credentials is a config failure', async (t) => {
  const dc = await devConnector(t, []);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, GATEWAY_RELAY_SECRET: undefined });
  const r = await doctor(t, io);
  t.is(r.mark('credentials'), '✗');
  t.is(r.code, ExitCode.CONFIG);
});

test('a connector that never sends a descriptor fails within --timeout-ms', async (t) => {
  const dc = await DevConnector.start({ secrets: [SECRET], descriptorFor: () => null });
  t.teardown(() => dc.close());
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  // the budget leaves room for the dial to open on a loaded machine (a CI run missed 1.5 s)
  const r = await doctor(t, io, { timeoutMs: 4_000 });
  t.is(r.code, ExitCode.UNREACHABLE);
  t.regex(r.found.get('connector')!.line, /no descriptor within 4000 ms/);
});

test('a bad manifest is ✗ manifest (exit 2); a plugin that does not load is ✗ plugins', async (t) => {
  const dc = await devConnector(t);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  writeFileSync(
    io.env.SIDECAR_PLUGINS!,
    JSON.stringify({ apiVersion: 1, plugins: [{ name: 'x', modul: 'y' }] }),
  );
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG);
  t.is(r.mark('manifest'), '✗');
  t.regex(r.found.get('manifest')!.line, /CORE_ERR_PLUGIN_MANIFEST_INVALID/);
  t.false(r.found.has('plugins'));
  t.is(r.mark('connector'), '✓', 'the other checks still run');

  const io2 = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  manifest(io2.cwd, [{ name: 'scope-reattacher' }, { name: 'ghost', module: join(io2.cwd, 'nope.js') }]);
  const r2 = await doctor(t, io2);
  t.is(r2.code, ExitCode.CONFIG);
  t.regex(r2.found.get('plugins')!.line, /CORE_ERR_PLUGIN_LOAD_FAILED.*ghost/);
});

test('scope-reattacher disabled or absent is a warning, not a failure', async (t) => {
  const dc = await devConnector(t);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  manifest(io.cwd, [{ name: 'scope-reattacher', enabled: false }, { name: 'follow-up' }]);
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.OK, io.out);
  t.is(r.mark('scope-reattacher'), '!');
  t.regex(r.found.get('scope-reattacher')!.line, /disabled: .*declines egress.*Fix: /);
  t.regex(io.out, /doctor: 0 problems, 1 warning/);

  const io2 = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  manifest(io2.cwd, [{ name: 'twilio' }]);
  t.is((await doctor(t, io2)).mark('scope-reattacher'), '!');
});

test('loose data dir and api token permissions are ✗ with chmod fixes; other-readable is a warning', async (t) => {
  const dc = await devConnector(t);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  const dataDir = io.env.SIDECAR_DATA_DIR!;
  mkdirSync(dataDir);
  chmodSync(dataDir, 0o777);
  writeFileSync(join(dataDir, 'api-token'), 'x'.repeat(32), { mode: 0o644 });
  chmodSync(join(dataDir, 'api-token'), 0o644);
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG);
  t.regex(r.found.get('data dir')!.line, /^✗ .*world-writable \(mode 0777\).*Fix: chmod 700 /);
  t.regex(r.found.get('api token')!.line, /^✗ .*mode 0644.*Fix: chmod 600 /);

  chmodSync(dataDir, 0o755);
  chmodSync(join(dataDir, 'api-token'), 0o600);
  const io2 = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, SIDECAR_DATA_DIR: dataDir });
  const r2 = await doctor(t, io2);
  t.is(r2.code, ExitCode.OK, io2.out);
  t.is(r2.mark('data dir'), '!');
  t.is(r2.mark('api token'), '✓');
});

test('a store file that is a symbolic link is ✗, as `run` refuses it', async (t) => {
  const dc = await devConnector(t);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  const dataDir = io.env.SIDECAR_DATA_DIR!;
  mkdirSync(dataDir, { mode: 0o700 });
  writeFileSync(join(io.cwd, 'elsewhere'), '');
  symlinkSync(join(io.cwd, 'elsewhere'), join(dataDir, 'sidecar.db-wal'));
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG);
  // was: ✓ data dir, then `run` opened the store with its WAL in whatever the link points at
  t.regex(r.found.get('data dir')!.line, /^✗ .*sidecar\.db-wal is a symbolic link.*Fix: remove it/);
});

// root reads and writes any file, so files this user may not use need another user: runuser, as root
const asOtherUser = process.getuid?.() === 0 && existsSync('/usr/sbin/runuser') ? test : test.skip;

asOtherUser('store files and an api token another user owns are ✗, as `run` refuses them', (t) => {
  // the usual slip: a first start as root, then the service as its own user on the same directory
  const io = doctorIo(t, {});
  chmodSync(io.cwd, 0o755);
  const dataDir = io.env.SIDECAR_DATA_DIR!;
  mkdirSync(dataDir, { mode: 0o700 });
  for (const file of ['sidecar.db', 'sidecar.lock', 'api-token']) {
    writeFileSync(join(dataDir, file), file === 'api-token' ? 'x'.repeat(32) : '', { mode: 0o600 });
  }
  const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  chownSync(dataDir, nobody, nobody);
  const run = spawnSync('/usr/sbin/runuser', ['-u', 'nobody', '--', process.execPath, CLI, 'doctor'], {
    cwd: io.cwd,
    env: { PATH: process.env.PATH ?? '', ...io.env },
    encoding: 'utf8',
  });
  const found = checks(run.stdout);
  // were: ✓ data dir and ✓ api token, then `run` refused the lock, the store and the token in turn
  t.regex(
    found.get('data dir')?.line ?? run.stdout,
    new RegExp(
      `^✗ data dir — sidecar\\.db, sidecar\\.lock in ${dataDir} are not writable by this user.* Fix: chown `,
    ),
  );
  t.regex(
    found.get('api token')?.line ?? run.stdout,
    new RegExp(`^✗ api token — ${join(dataDir, 'api-token')} is not readable by this user.* Fix: `),
  );
  t.is(run.status, ExitCode.CONFIG);
});

asOtherUser('an api token file another user owns is ✗ for root too, as `run` refuses it', async (t) => {
  const dc = await devConnector(t);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  const dataDir = io.env.SIDECAR_DATA_DIR!;
  mkdirSync(dataDir, { mode: 0o700 });
  const file = join(dataDir, 'api-token');
  writeFileSync(file, 'x'.repeat(32), { mode: 0o600 });
  const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  chownSync(file, nobody, nobody);
  const r = await doctor(t, io);
  // was: ✓ (root reads any file), then `run` refused it
  t.regex(r.found.get('api token')!.line, /^✗ .*api-token belongs to another user .*Fix: /);
  t.is(r.code, ExitCode.CONFIG);
});

/** A store in `dataDir` as a sidecar leaves it: both schemas migrated, 300 plugin rows (75 pages). */
function storeIn(dataDir: string): string {
  const file = databasePath(dataDir);
  const db = openDatabase(file);
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  const kv = new KvStore(db);
  for (let i = 0; i < 300; i++) kv.set('plugin', `key-${i}`, 'x'.repeat(800));
  db.close();
  return file;
}

test('the store: none yet, intact, written by a newer build, damaged deep inside, not SQLite; read only', async (t) => {
  const dc = await devConnector(t);
  const run = async (prepare: (dataDir: string) => void) => {
    const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
    const dataDir = io.env.SIDECAR_DATA_DIR as string;
    mkdirSync(dataDir, { mode: 0o700 });
    prepare(dataDir);
    const before = readdirSync(dataDir).sort();
    const r = await doctor(t, io);
    t.deepEqual(readdirSync(dataDir).sort(), before, 'doctor creates no file');
    return { ...r, line: r.found.get('store')?.line ?? io.out };
  };

  const none = await run(() => {});
  t.regex(none.line, /^✓ store — none yet in .*data/);
  const intact = await run((dir) => storeIn(dir));
  t.regex(
    intact.line,
    new RegExp(
      `^✓ store — .*sidecar\\.db: intact \\(quick_check\\), schema inbox ${INBOX_MIGRATIONS.length}, kv ${KV_MIGRATIONS.length} \\(\\d+\\.\\d MiB, \\d+\\.\\d MiB free\\)$`,
    ),
  );
  t.is(intact.code, ExitCode.OK);
  // an older build's store (no auto-vacuum) with its free pages: they stay in the file
  const older = await run((dir) => {
    const db = new BetterSqlite3(databasePath(dir));
    db.pragma('journal_mode = WAL');
    migrate(db, 'inbox', INBOX_MIGRATIONS);
    const kv = new KvStore(db);
    for (let i = 0; i < 2_000; i++) kv.set('plugin', `key-${i}`, 'x'.repeat(3_000));
    for (let i = 0; i < 2_000; i++) kv.set('plugin', `key-${i}`, undefined);
    db.close();
  });
  t.regex(
    older.line,
    /^! store — .*intact.* MiB free\); its free pages stay in the file.* Fix: the next start converts it/,
  );
  t.is(older.code, ExitCode.OK);

  const newer = await run((dir) => {
    const db = openDatabase(storeIn(dir));
    db.prepare("UPDATE schema_migrations SET version = version + 1 WHERE name = 'inbox'").run();
    db.close();
  });
  t.regex(
    newer.line,
    new RegExp(
      `^✗ store — .*: its "inbox" schema is at version ${INBOX_MIGRATIONS.length + 1}; this build knows versions up to ${INBOX_MIGRATIONS.length}.* Fix: run the newer relay-sidecar`,
    ),
  );
  t.is(newer.code, ExitCode.CONFIG);

  // a running sidecar's store: checked in place, WAL included (this change is only in the WAL)
  let running: ReturnType<typeof openDatabase> | undefined;
  const live = await run((dir) => {
    running = openDatabase(storeIn(dir));
    running.prepare("UPDATE schema_migrations SET version = version + 1 WHERE name = 'kv'").run();
  });
  running?.close();
  t.regex(
    live.line,
    new RegExp(
      `^✗ store — .*: its "kv" schema is at version ${KV_MIGRATIONS.length + 1}; this build knows versions up to ${KV_MIGRATIONS.length}`,
    ),
  );

  // garbage over pages in the middle: the file opens, as it does for `run`; a page read fails
  const deep = await run((dir) => {
    const file = storeIn(dir);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(3 * 4096, 0x5a), 0, 3 * 4096, 40 * 4096);
    closeSync(fd);
  });
  t.regex(
    deep.line,
    /^✗ store — .*sidecar\.db is damaged: .* Fix: stop the sidecar, move the data directory aside/,
  );
  t.is(deep.code, ExitCode.CONFIG);

  const garbage = await run((dir) => writeFileSync(databasePath(dir), 'not a database\n'.repeat(300)));
  t.regex(
    garbage.line,
    /^✗ store — .*sidecar\.db is damaged: file is not a database.* Fix: stop the sidecar, move/,
  );
});

test('an invalid configuration is ✗ config with its code, exit 2, and the other checks are skipped', async (t) => {
  const io = doctorIo(t, { AGENT_MODE: 'sideways' });
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG);
  t.regex(r.found.get('config')!.line, /^✗ config — CORE_ERR_CONFIG_INVALID: .*AGENT_MODE.*Fix: /);
  t.is(r.found.size, 1);
  t.regex(io.out, /need a loadable configuration/);
});

test('a missing GATEWAY_RELAY_URL is ✗ connector url and no dial is tried', async (t) => {
  const io = doctorIo(t, {});
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG);
  t.is(r.mark('connector url'), '✗');
  t.false(r.found.has('connector'));
});

test('an invalid GATEWAY_RELAY_URL is ✗ config naming the variable (as `run` refuses it), never the URL', async (t) => {
  const io = doctorIo(t, { GATEWAY_RELAY_URL: 'ftp://user:pw-in-url@host' });
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG);
  t.regex(r.found.get('config')!.line, /^✗ config — CORE_ERR_CONFIG_INVALID: .*GATEWAY_RELAY_URL/);
  t.false(r.found.has('connector'));
  t.false(io.out.includes('pw-in-url'));
});

test('push mode: a reachable agent passes, an unreachable one is only a warning', async (t) => {
  const dc = await devConnector(t);
  const agent = createServer((_req, res) => res.writeHead(405).end());
  await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => agent.close(() => resolve())));
  const port = (agent.address() as { port: number }).port;
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, AGENT_URL: `http://127.0.0.1:${port}/hook` });
  const r = await doctor(t, io);
  t.regex(
    r.found.get('agent')!.line,
    /^✓ agent — push to http:\/\/127\.0\.0\.1:\d+\/hook: answered HTTP 405$/,
  );

  const io2 = doctorIo(t, {
    GATEWAY_RELAY_URL: dc.url,
    AGENT_URL: `http://127.0.0.1:${await closedPort()}/hook`,
  });
  const r2 = await doctor(t, io2);
  t.is(r2.code, ExitCode.OK, io2.out);
  t.is(r2.mark('agent'), '!');
});

test('the API address: a non-loopback SIDECAR_LISTEN is ✗ api address, as `run` refuses it; a malformed one ✗ config', async (t) => {
  const dc = await devConnector(t);
  const good = await doctor(t, doctorIo(t, { GATEWAY_RELAY_URL: dc.url, SIDECAR_LISTEN: '[::1]:7700' }));
  t.regex(good.found.get('api address')!.line, /^✓ api address — \[::1\]:7700 \(loopback\)$/);
  // was: ✓ everywhere (the pull-mode agent line even named the address), then `run` exited 2
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, SIDECAR_LISTEN: '0.0.0.0:7700' });
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG, io.out);
  t.regex(
    r.found.get('api address')!.line,
    /^✗ api address — CORE_ERR_API_LISTEN_FAILED: agent api cannot listen on 0\.0\.0\.0:7700: not a loopback address.*Fix: .*SIDECAR_LISTEN/,
  );
  const malformed = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, SIDECAR_LISTEN: '127.0.0.1:99999' });
  const m = await doctor(t, malformed);
  t.is(m.code, ExitCode.CONFIG);
  t.regex(m.found.get('config')!.line, /^✗ config — CORE_ERR_CONFIG_INVALID: .*SIDECAR_LISTEN/);
});

test('push mode: an AGENT_URL with credentials is probed with them, never printing them', async (t) => {
  const dc = await devConnector(t);
  const seen: (string | undefined)[] = [];
  const agent = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(405).end();
  });
  await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => agent.close(() => resolve())));
  const port = (agent.address() as { port: number }).port;
  const io = doctorIo(t, {
    GATEWAY_RELAY_URL: dc.url,
    AGENT_URL: `http://hook:pw-9f3e@127.0.0.1:${port}/hook?key=q-7c1d`,
  });
  const r = await doctor(t, io);
  // was: "! agent — … not reachable (TypeError)": fetch refuses a URL with credentials, which push
  // delivery sends as Basic auth
  t.regex(
    r.found.get('agent')!.line,
    /^✓ agent — push to http:\/\/127\.0\.0\.1:\d+\/hook: answered HTTP 405$/,
  );
  t.deepEqual(seen, [`Basic ${Buffer.from('hook:pw-9f3e').toString('base64')}`]);
  t.false(io.out.includes('pw-9f3e'));
  t.false(io.out.includes('q-7c1d'));
});

test('push mode: an agent on a port fetch() refuses (6000, 10080, …) is probed as push delivery reaches it', async (t) => {
  const dc = await devConnector(t);
  const agent = createServer((_req, res) => res.writeHead(405).end());
  // ports on the fetch standard's "bad ports" list; push delivery's HTTP client has no such list
  const port = await listenOnFetchBadPort(agent);
  t.teardown(() => new Promise<void>((resolve) => agent.close(() => resolve())));
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, AGENT_URL: `http://127.0.0.1:${port}/hook` });
  const r = await doctor(t, io);
  // was: "! agent — push to …: not reachable (bad port)" while deliveries reached the agent
  t.is(r.found.get('agent')?.line, `✓ agent — push to http://127.0.0.1:${port}/hook: answered HTTP 405`);
});

test('--config and --plugins check the files `run -c … -p …` would use, relative to the working directory', async (t) => {
  const io = doctorIo(t, {});
  writeFileSync(join(io.cwd, 'sidecar.yaml'), 'agent:\n  concurency: 8\n');
  // was: "error: unknown option '--config'", so a deployment started with `run -c` could not be checked
  const r = await doctor(t, io, { config: 'sidecar.yaml' });
  t.is(r.code, ExitCode.CONFIG);
  t.regex(r.found.get('config')!.line, /^✗ config — CORE_ERR_CONFIG_INVALID: .*concurency/);

  const io2 = doctorIo(t, {});
  writeFileSync(join(io2.cwd, 'broken.json'), '{ "apiVersion": 1, "plugins": [');
  const r2 = await doctor(t, io2, { plugins: 'broken.json' });
  t.regex(r2.found.get('manifest')!.line, /^✗ manifest — CORE_ERR_PLUGIN_MANIFEST_INVALID: .*broken\.json/);
  // the options win over SIDECAR_CONFIG / SIDECAR_PLUGINS, as they do for run
  const r3 = await doctor(t, doctorIo(t, {}), { plugins: join(io2.cwd, 'broken.json') });
  t.is(r3.mark('manifest'), '✗');
});

test('--env-path supplies the credentials; --timeout-ms is validated', async (t) => {
  const dc = await devConnector(t);
  const io = doctorIo(t, {
    GATEWAY_RELAY_URL: dc.url,
    GATEWAY_RELAY_ID: undefined,
    GATEWAY_RELAY_SECRET: undefined,
  });
  writeFileSync(join(io.cwd, '.env.relay'), `GATEWAY_RELAY_ID=gw-file\nGATEWAY_RELAY_SECRET=${SECRET}\n`);
  const r = await doctor(t, io, { envPath: '.env.relay' });
  t.is(r.code, ExitCode.OK, io.out);
  t.like(dc.upgrades[0], { authorized: true, gatewayId: 'gw-file' });
  const bad = doctorIo(t, {});
  t.is(await runDoctor({ timeoutMs: 'soon' }, bad), ExitCode.CONFIG);
  t.regex(bad.err, /--timeout-ms/);
});

test('dialCheck maps HTTP answers: redirects and wrong paths are config, 401 auth, 503 unreachable', (t) => {
  const ctx = {
    dial: 'wss://c.example/relay',
    authenticated: true,
    gatewayId: 'g',
    timeoutMs: 1,
    platforms: ['relay'],
  };
  t.is(dialCheck({ kind: 'http', status: 301 }, ctx).exitCode, ExitCode.CONFIG);
  t.is(dialCheck({ kind: 'http', status: 404 }, ctx).exitCode, ExitCode.CONFIG);
  t.is(dialCheck({ kind: 'http', status: 401 }, ctx).exitCode, ExitCode.AUTH);
  t.is(dialCheck({ kind: 'http', status: 503 }, ctx).exitCode, ExitCode.UNREACHABLE);
  t.is(dialCheck({ kind: 'unauthorized', reason: 'expired' }, ctx).exitCode, ExitCode.AUTH);
  t.is(dialCheck({ kind: 'closed', code: 1008, reason: 'x' }, ctx).status, 'fail');
});

test('the built CLI runs doctor as a child process: exit 0 against a good connector, 4 with a wrong secret', async (t) => {
  const dc = await devConnector(t);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  const good = await runChild(['doctor', '--timeout-ms', '5000'], io);
  t.is(good.code, ExitCode.OK, good.out + good.err);
  t.regex(good.out, /^✓ connector — handshake with ws:\/\/127\.0\.0\.1:\d+\/relay as gateway gw-doc/m);
  const bad = await runChild(['doctor'], {
    ...io,
    env: { ...io.env, GATEWAY_RELAY_SECRET: 'wrong-secret-000' },
  });
  t.is(bad.code, ExitCode.AUTH);
  t.regex(bad.out, /^✗ connector — .*Fix: /m);
  t.false(good.out.includes(SECRET) || bad.out.includes('wrong-secret-000'));
});

/** Run the built CLI with exactly `io.env` (plus PATH) in `io.cwd`. */
function runChild(args: string[], io: { env: NodeJS.ProcessEnv; cwd: string }) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '', ...io.env };
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: io.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

async function waitUntil(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
