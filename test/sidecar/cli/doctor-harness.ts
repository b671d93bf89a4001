/**
 * Shared set-up of the `doctor` command's tests: a manifest of the built plugins, a real dev connector, a
 * test io whose env points at it, and a run of doctor that parses the printed check lines and asserts the
 * relay secret is never printed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { type DoctorOptions, runDoctor } from '../../../sidecar/cli/doctor-command.js';
import { DevConnector } from '../../../sidecar/dev-connector/index.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { type TestIo, testIo } from './cli-harness.js';

/** The relay secret doctorIo sets and the dev connector accepts; doctor() asserts it is never printed. */
export const SECRET = 'doctor-secret-5d41402abc4b2a76';

/** A manifest in `dir` naming the built plugins by absolute path. */
export function manifest(
  dir: string,
  plugins: { name: string; enabled?: boolean; module?: string }[],
): string {
  const path = join(dir, 'plugins.json');
  const entries = plugins.map((p) => ({
    name: p.name,
    module: p.module ?? join(repoRoot(), 'dist', 'plugins', p.name, 'index.js'),
    enabled: p.enabled ?? true,
  }));
  writeFileSync(path, JSON.stringify({ apiVersion: 1, plugins: entries }));
  return path;
}

/** A real dev connector accepting `secrets`, closed at teardown. */
export async function devConnector(t: ExecutionContext, secrets: string[] = [SECRET]): Promise<DevConnector> {
  const dc = await DevConnector.start({ secrets });
  t.teardown(() => dc.close());
  return dc;
}

/** A test io whose env points at `url`, a data dir in its temp cwd and a scope-reattacher manifest. */
export function doctorIo(t: ExecutionContext, env: Record<string, string | undefined>): TestIo {
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
export function checks(out: string): Map<string, { mark: string; line: string }> {
  const map = new Map<string, { mark: string; line: string }>();
  for (const line of out.split('\n')) {
    const m = /^([✓✗!]) (.+?) — /.exec(line);
    if (m) map.set(m[2]!, { mark: m[1]!, line });
  }
  return map;
}

/** Runs doctor on `io` and returns its exit code and the parsed check lines (`mark(name)` is ✓, ✗ or !). */
export async function doctor(t: ExecutionContext, io: TestIo, opts: DoctorOptions = {}) {
  // roomy: a loaded CI machine may need seconds for a handshake; tests of the timeout pass their own
  const code = await runDoctor({ timeoutMs: 10_000, ...opts }, io);
  const found = checks(io.out);
  t.false(io.out.includes(SECRET), 'the secret is never printed');
  return { code, found, mark: (name: string) => found.get(name)?.mark };
}
