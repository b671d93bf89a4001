/**
 * The local checks of `relay-sidecar doctor`: pure functions of the configuration and the file
 * system, each returning one {@link CheckResult}. Nothing here writes a file or prints a secret;
 * permissions live in `doctor-permissions.ts`, plugins and the agent in `doctor-probes.ts`, the
 * connector dial in `doctor-dial.ts`.
 */

import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatListenAddress, isLoopbackHost, parseListenAddress } from '../../core/config/listen-address.js';
import type { Config } from '../../core/config/schema.js';
import { RelayError } from '../../core/errors.js';
import { builtInModuleFor } from '../../core/plugin-host/manifest.js';
import { dialUrl, redactUrl } from '../../core/transport/dial-url.js';
import { notLoopback } from '../agent-api/bind-address.js';
import { ExitCode } from './exit-codes.js';

/** `ok` ⇒ ✓, `warn` ⇒ ! (does not fail the run), `fail` ⇒ ✗. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** The outcome of one check: one printed line. */
export interface CheckResult {
  readonly status: CheckStatus;
  /** Short, stable name of the check (`config`, `data dir`, …). */
  readonly name: string;
  /** What was found (ok) or what is wrong (warn, fail). Never holds a secret. */
  readonly detail: string;
  /** What to do about it (warn, fail). */
  readonly fix?: string;
  /** Exit code of a failure; default {@link ExitCode.CONFIG}. */
  readonly exitCode?: ExitCode;
}

/** A passed check. */
export const ok = (name: string, detail: string): CheckResult => ({ status: 'ok', name, detail });
/** A warning (exit code unaffected). */
export const warn = (name: string, detail: string, fix: string): CheckResult => ({
  status: 'warn',
  name,
  detail,
  fix,
});
/** A failure. */
export const fail = (name: string, detail: string, fix: string, exitCode: ExitCode = ExitCode.CONFIG) => ({
  status: 'fail' as const,
  name,
  detail,
  fix,
  exitCode,
});

const MARKS: Readonly<Record<CheckStatus, string>> = { ok: '✓', warn: '!', fail: '✗' };

/** One line: `✓ name — detail`, `✗ name — problem. Fix: …`, `! name — warning. Fix: …`. */
export function formatCheck(r: CheckResult): string {
  if (!r.fix) return `${MARKS[r.status]} ${r.name} — ${r.detail}`;
  const sentence = /[.!?]$/.test(r.detail) ? r.detail : `${r.detail}.`;
  return `${MARKS[r.status]} ${r.name} — ${sentence} Fix: ${r.fix}`;
}

/** 0 when nothing failed; else the exit code of the first failure (checks run config-first). */
export function doctorExitCode(results: readonly CheckResult[]): ExitCode {
  const first = results.find((r) => r.status === 'fail');
  return first ? (first.exitCode ?? ExitCode.CONFIG) : ExitCode.OK;
}

/** GATEWAY_RELAY_URL is set and normalises to a dial URL; cleartext to a remote host warns. */
export function checkConnectorUrl(url: string | undefined): { result: CheckResult; dial?: string } {
  const name = 'connector url';
  if (!url?.trim()) {
    const fix = 'set GATEWAY_RELAY_URL to the connector base URL, e.g. https://connector.example';
    return { result: fail(name, 'GATEWAY_RELAY_URL is not set', fix) };
  }
  let dial: string;
  try {
    dial = dialUrl(url);
  } catch (err) {
    // dialUrl's message names the problem and never echoes the URL (it may hold credentials).
    const why = err instanceof RelayError ? err.message : 'not a valid URL';
    return { result: fail(name, why, 'use an absolute http(s):// or ws(s):// URL with a host') };
  }
  const u = new URL(dial);
  if (u.protocol === 'ws:' && !isLoopbackHost(u.hostname)) {
    const detail = `dials ${redactUrl(dial)} without TLS: messages travel in clear`;
    return { result: warn(name, detail, 'use https:// or wss:// for a connector on another host'), dial };
  }
  return { result: ok(name, `dials ${redactUrl(dial)}`), dial };
}

/**
 * The agent API's address is one `run` binds: on loopback, or a unix socket in a directory this
 * user may create it in, on a path free or holding a socket (the form is the config's check).
 * Whether the port or socket is in use is not checked: the sidecar may be running.
 */
export function checkApiAddress(listen: string): CheckResult {
  const name = 'api address';
  const address = parseListenAddress(listen);
  const refusal = notLoopback(address);
  if (refusal) {
    const fix = 'set SIDECAR_LISTEN to 127.0.0.1:<port>, [::1]:<port> or unix:/path';
    return fail(name, `${refusal.code}: ${refusal.message}`, fix);
  }
  const shown = formatListenAddress(address);
  if (address.kind === 'tcp') return ok(name, `${shown} (loopback)`);
  const problem = socketPathProblem(address.path);
  if (!problem) return ok(name, shown);
  return (problem.missingDir ? warn : fail)(name, `${shown}: ${problem.detail}`, problem.fix);
}

/**
 * What keeps `run` from binding a unix socket at `path` (bind-address.ts), or undefined. A missing
 * directory is only a warning (`missingDir`): systemd's RuntimeDirectory= creates it as the
 * service starts and removes it when it stops, so it is absent whenever doctor runs beside a
 * stopped unit (operations.md).
 */
function socketPathProblem(path: string): { detail: string; fix: string; missingDir?: true } | undefined {
  const dir = dirname(path);
  const other = 'set SIDECAR_LISTEN to another path';
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch {
    // run's bind fails with EACCES here unless something creates the directory before it
    const detail = `the directory ${dir} does not exist: run cannot create the socket unless it is created first`;
    const fix = `create it (mode 0700) as the sidecar's user, or under systemd RuntimeDirectory=, or ${other}`;
    return { detail, fix, missingDir: true };
  }
  if (!st.isDirectory()) return { detail: `${dir} is not a directory`, fix: other };
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    const fix = `chown ${dir} to the sidecar's user (and run doctor as that user), or ${other}`;
    return { detail: `this user may not create a socket in ${dir}`, fix };
  }
  try {
    // only a socket file may be replaced: run never deletes anything else
    if (!lstatSync(path).isSocket())
      return { detail: 'the path exists and is not a socket', fix: `remove it, or ${other}` };
  } catch {
    // free: run creates the socket there
  }
  return undefined;
}

/** Gateway id and secret both set (authenticated dial), or a warning that the dial is open. */
export function checkCredentials(relay: Config['relay']): CheckResult {
  const name = 'credentials';
  const { gatewayId, secret } = relay;
  if (gatewayId && secret) return ok(name, `gateway ${gatewayId}, secret set`);
  const enrolFix = 'run `relay-sidecar enroll`, or set GATEWAY_RELAY_ID and GATEWAY_RELAY_SECRET';
  // an id without a secret is how a self-provisioning sidecar is given a stable id (operations.md,
  // checklist): `run` provisions that id at boot, so only without an identity token is it half set
  if (gatewayId && !secret && relay.identityToken) {
    const detail = `no GATEWAY_RELAY_SECRET: \`run\` self-provisions gateway ${gatewayId} at boot with the identity token; this check dials unauthenticated`;
    return warn(name, detail, enrolFix);
  }
  if (gatewayId || secret) {
    const missing = gatewayId ? 'GATEWAY_RELAY_SECRET' : 'GATEWAY_RELAY_ID';
    return fail(name, `${missing} is missing, so the dial would go out unauthenticated`, enrolFix);
  }
  if (relay.identityToken) {
    const detail =
      'no GATEWAY_RELAY_ID/SECRET: `run` self-provisions at boot with the identity token; this check dials unauthenticated';
    return warn(name, detail, enrolFix);
  }
  return warn(
    name,
    'no GATEWAY_RELAY_ID/SECRET: the dial is unauthenticated (dev connectors only)',
    enrolFix,
  );
}

/** The scope-reattacher plugin is enabled in the manifest (hosted connectors need its metadata). */
export function checkScopeReattacher(
  plugins: readonly { name: string; enabled: boolean }[],
  manifestPath: string,
): CheckResult {
  const name = 'scope-reattacher';
  const entry = plugins.find((p) => p.name === 'scope-reattacher');
  const why = 'a hosted multi-tenant connector declines egress without the scope metadata it adds';
  if (!entry) {
    // the package name resolves only from a manifest inside the installation: else its path
    const module = JSON.stringify(builtInModuleFor('scope-reattacher', manifestPath));
    const fix = `add {"name": "scope-reattacher", "module": ${module}} to ${manifestPath}`;
    return warn(name, `not in the manifest: ${why}`, fix);
  }
  if (!entry.enabled) return warn(name, `disabled: ${why}`, `set "enabled": true on it in ${manifestPath}`);
  return ok(name, 'enabled');
}
