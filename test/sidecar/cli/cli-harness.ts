/**
 * An in-process CliIo for command tests: captured stdout/stderr, a private environment, a temp
 * working directory (removed at teardown) and a fixed clock.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { CliIo } from '../../../sidecar/cli/cli-io.js';
import { removeDir } from '../../helpers/temp-dir.js';

/** A CliIo whose output and exit code can be read back. */
export interface TestIo extends CliIo {
  out: string;
  err: string;
  exitCode: number | undefined;
}

/** Build a test io with `env` (nothing inherited from the real process) in a fresh temp dir. */
export function testIo(
  t: ExecutionContext,
  env: Record<string, string> = {},
  nowMs = 1_754_700_000_000,
): TestIo {
  const cwd = mkdtempSync(join(tmpdir(), 'relay-cli-'));
  t.teardown(() => removeDir(cwd));
  const io: TestIo = {
    out: '',
    err: '',
    exitCode: undefined,
    env: { ...env },
    cwd,
    nowMs: () => nowMs,
    stdout: (s) => {
      io.out += s;
    },
    stderr: (s) => {
      io.err += s;
    },
    setExitCode: (c) => {
      io.exitCode = c;
    },
  };
  return io;
}
