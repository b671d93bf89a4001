/**
 * Shared set-up of loadConfig's tests: a secret value that must never be echoed, a config file in a fresh
 * temp dir, and the RelayError a refused load throws.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayError } from '../../../core/errors.js';

/** A secret value the tests pass in: a refused load must never echo it. */
export const SECRET = 'super-secret-value-xyz';

/** Writes `content` to a file `name` in a fresh temp dir and returns its path. */
export function tmpFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs-config-'));
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** The RelayError `fn` throws; any other outcome fails the test. */
export function configError(fn: () => unknown): RelayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RelayError) return err;
    throw err;
  }
  throw new Error('expected a RelayError');
}
