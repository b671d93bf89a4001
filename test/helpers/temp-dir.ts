/** A temp directory removed with the test. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

/** Create a temp dir for `t`, removed at teardown. */
export function tempDir(t: ExecutionContext, prefix = 'relay-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A config file `sidecar.yaml` holding `text`, in a temp dir removed with `t`. */
export function tempConfigFile(t: ExecutionContext, text: string): string {
  const file = join(tempDir(t, 'relay-config-'), 'sidecar.yaml');
  writeFileSync(file, text);
  return file;
}
