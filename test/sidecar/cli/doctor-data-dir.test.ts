/**
 * doctor's `data dir` check agrees with what `run` accepts: a group-writable data directory (a
 * Kubernetes volume with fsGroup is mode 2775) is accepted by `run` (decisions.md) and is a
 * warning here, where it was ✗ and doctor exited 2 on a setup the sidecar runs on; a
 * world-writable one is refused by both.
 */
import { chmodSync } from 'node:fs';
import test from 'ava';
import { privateFilesProblem } from '../../../core/store/private-files.js';
import { checkDataDir } from '../../../sidecar/cli/doctor-permissions.js';
import { tempDir } from '../../helpers/temp-dir.js';

test('a group-writable data dir is ! (run accepts it); a world-writable one ✗ (run refuses it)', (t) => {
  const dir = tempDir(t);
  for (const mode of [0o770, 0o2775]) {
    chmodSync(dir, mode);
    t.is(privateFilesProblem(dir, []), undefined, mode.toString(8));
    const check = checkDataDir(dir);
    t.is(check.status, 'warn', mode.toString(8));
    t.regex(check.detail, /group-writable/);
    t.regex(check.fix ?? '', /chmod 700/);
  }
  chmodSync(dir, 0o777);
  t.truthy(privateFilesProblem(dir, []));
  t.is(checkDataDir(dir).status, 'fail');
  chmodSync(dir, 0o700);
  t.is(checkDataDir(dir).status, 'ok');
});
