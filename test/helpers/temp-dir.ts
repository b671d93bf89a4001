/** A temp directory removed with the test. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

/**
 * Remove `dir` and what it holds, retried a while if a file appears meanwhile (ENOTEMPTY): a
 * store's checkpoint thread whose stop ran out of time is left to end, never terminated
 * (docs/decisions.md), and its last checkpoint may still touch the WAL files beside the store.
 */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 40, retryDelay: 25 });
}

/** Create a temp dir for `t`, removed at teardown. */
export function tempDir(t: ExecutionContext, prefix = 'relay-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => removeDir(dir));
  return dir;
}

/** A config file `sidecar.yaml` holding `text`, in a temp dir removed with `t`. */
export function tempConfigFile(t: ExecutionContext, text: string): string {
  const file = join(tempDir(t, 'relay-config-'), 'sidecar.yaml');
  writeFileSync(file, text);
  return file;
}
