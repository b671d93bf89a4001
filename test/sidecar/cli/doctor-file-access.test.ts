/**
 * The `doctor` command's data dir and api token checks on file modes, owners and links, each as `run`
 * would refuse them: loose permissions (with chmod fixes), a store file that is a symbolic link, and files
 * another user owns (run as root through runuser, skipped elsewhere).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { CLI } from './cli-child.js';
import { checks, devConnector, doctor, doctorIo } from './doctor-harness.js';

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
