/** A temp directory removed with the test. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

/** How long `removeDir` keeps trying while files appear in the directory, ms. */
const REMOVE_WITHIN_MS = 10_000;
const REMOVE_RETRY_MS = 25;

/**
 * Remove `dir` and what it holds, tried again from the top while a file appears meanwhile
 * (ENOTEMPTY), up to 10 s: a store's checkpoint thread whose stop ran out of time is left to end,
 * never terminated (docs/decisions.md), and its last checkpoint may still write the WAL files
 * beside the store. `rmSync`'s own `maxRetries` does not list the directory again, so a file made
 * after its listing fails every retry.
 */
export function removeDir(dir: string): void {
  const until = Date.now() + REMOVE_WITHIN_MS;
  for (;;) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EBUSY') || Date.now() >= until) throw err;
      // a plain sleep: the thread writing the files runs on while this one waits
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, REMOVE_RETRY_MS);
    }
  }
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
