/**
 * A small tmpfs mounted for one test (a full or read-only file system, as an operator's data
 * directory may be). Mounting needs root and a kernel that lets this container mount: tests that
 * need one are registered with {@link withTmpfs}, which skips them where it cannot.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';

/** Mount a tmpfs of `sizeKib` (read-only with `readOnly`) on a fresh directory; unmounted at teardown. */
export function mountTmpfs(t: ExecutionContext, sizeKib: number, readOnly = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'relay-tmpfs-'));
  const opts = `${readOnly ? 'ro,' : ''}size=${sizeKib}k,mode=0700`;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
  if (r.status !== 0) throw new Error(`mount failed: ${r.stderr.toString().trim()}`);
  t.teardown(() => {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), 'relay-tmpfs-probe-'));
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir]).status !== 0) return false;
    spawnSync('umount', [dir]);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `test` where this process may mount a tmpfs, else `test.skip`. */
export const withTmpfs = canMount() ? test : test.skip;
