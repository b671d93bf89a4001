/**
 * `relay-sidecar enroll`: trade a single-use enrolment token for this gateway's credentials and
 * persist them to an env file (mode 0600). The secret is written, never printed.
 */
import { resolve } from 'node:path';
import { connectorCallbackUrlProblem } from '../../core/config/http-url.js';
import { loadConfig } from '../../core/config/load.js';
import { WAKE_URL_EXAMPLE } from '../../core/config/relay-schema.js';
import type { Config } from '../../core/config/schema.js';
import { RelayError } from '../../core/errors.js';
import { httpBase, redactUrl } from '../../core/transport/dial-url.js';
import { enroll } from '../side-routes/enroll.js';
import type { FetchFn } from '../side-routes/http-client.js';
import type { CliIo } from './cli-io.js';
import { DEFAULT_ENV_FILE } from './commands.js';
import {
  checkEnvFileWritable,
  formatEnvValue,
  mergeEnvText,
  printable,
  readEnvFile,
  writeEnvFileAtomic,
} from './env-file.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';

/** Options of `enroll` (flags; each falls back to its env variable). */
export interface EnrollOptions {
  /** Enrolment token; env `GATEWAY_RELAY_ENROLL_TOKEN`. */
  token?: string;
  /** Gateway id; env `GATEWAY_RELAY_ID`. */
  gatewayId?: string;
  /** Connector base URL; env `GATEWAY_RELAY_URL`. */
  connectorUrl?: string;
  /** Wake URL; env `GATEWAY_RELAY_WAKE_URL`. */
  wakeUrl?: string;
  /** Identity token; env `GATEWAY_RELAY_IDENTITY_TOKEN`. */
  identityToken?: string;
  /** Env file to write; default {@link DEFAULT_ENV_FILE}. */
  envPath?: string;
  /** Side-route timeout override, ms; default `relay.sideRouteTimeoutMs`. */
  timeoutMs?: number;
  /** fetch override (tests). */
  fetch?: FetchFn;
}

/** Env keys whose values are secrets: written to the file, shown masked. */
const SECRET_KEYS = new Set(['GATEWAY_RELAY_SECRET', 'GATEWAY_RELAY_DELIVERY_KEY']);
/** Env keys whose values are URLs: written as given, shown without user info, query or fragment. */
const URL_KEYS = new Set(['GATEWAY_RELAY_URL', 'GATEWAY_RELAY_WAKE_URL']);

/** Run `enroll`; returns the exit code (never throws). */
export async function runEnroll(opts: EnrollOptions, io: CliIo): Promise<ExitCode> {
  const fail = (code: ExitCode, message: string, hint?: string): ExitCode => {
    io.stderr(`enroll: ${message}\n${hint ? `  ${hint}\n` : ''}`);
    return code;
  };
  let config: Config;
  try {
    config = loadConfig({ env: io.env });
  } catch (err) {
    return fail(exitCodeFor(err), (err as Error).message);
  }
  const token = opts.token ?? config.relay.enrollToken;
  const gatewayId = opts.gatewayId ?? config.relay.gatewayId;
  const url = (opts.connectorUrl ?? config.relay.url)?.trim();
  const wakeUrl = opts.wakeUrl ?? config.relay.wakeUrl;
  const identityToken = opts.identityToken ?? config.relay.identityToken;
  const missing = [
    !token && '--token (or GATEWAY_RELAY_ENROLL_TOKEN)',
    !gatewayId && '--gateway-id (or GATEWAY_RELAY_ID)',
    !url && '--connector-url (or GATEWAY_RELAY_URL)',
    !identityToken && '--identity-token (or GATEWAY_RELAY_IDENTITY_TOKEN)',
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length > 0) return fail(ExitCode.CONFIG, `missing ${missing.join(', ')}`);
  try {
    httpBase(url!);
  } catch (err) {
    // the check names the variable; the URL may have come from the flag
    const message = (err as Error).message;
    return fail(
      ExitCode.CONFIG,
      opts.connectorUrl === undefined ? message : message.replace(/^GATEWAY_RELAY_URL\b/, '--connector-url'),
    );
  }
  // the flag by GATEWAY_RELAY_WAKE_URL's rule (the variable's was checked at load): before the
  // single-use token is spent, and before the file the next start would refuse is written
  const wakeProblem =
    opts.wakeUrl === undefined ? undefined : connectorCallbackUrlProblem(opts.wakeUrl, WAKE_URL_EXAMPLE);
  if (wakeProblem) return fail(ExitCode.CONFIG, `--wake-url ${wakeProblem}`);
  const envPath = resolve(io.cwd, opts.envPath ?? DEFAULT_ENV_FILE);
  try {
    // Before the single-use token is spent: make sure the result can be saved.
    checkEnvFileWritable(envPath);
  } catch (err) {
    return fail(ExitCode.CONFIG, (err as Error).message, 'choose another --env-path or fix its permissions');
  }

  let creds: Awaited<ReturnType<typeof enroll>>;
  try {
    creds = await enroll({
      base: url!,
      identityToken: identityToken!,
      enrollmentToken: token!,
      gatewayId: gatewayId!,
      wakeUrl,
      timeoutMs: opts.timeoutMs ?? config.relay.sideRouteTimeoutMs,
      fetch: opts.fetch,
    });
  } catch (err) {
    const code = exitCodeFor(err);
    // side-route errors start with their route ('enroll: …'), which the prefix already says
    const reason = err instanceof RelayError ? err.message.replace(/^enroll: /, '') : 'unexpected error';
    return fail(
      code,
      `enrolment failed: ${reason}`,
      code === ExitCode.UNREACHABLE ? 'check the connector URL and network, then retry' : undefined,
    );
  }

  const entries: [string, string][] = [
    ['GATEWAY_RELAY_ID', creds.gatewayId],
    ['GATEWAY_RELAY_SECRET', creds.secret],
    ['GATEWAY_RELAY_DELIVERY_KEY', creds.deliveryKey],
    ['GATEWAY_RELAY_URL', url!],
  ];
  if (wakeUrl) entries.push(['GATEWAY_RELAY_WAKE_URL', wakeUrl]);
  try {
    writeEnvFileAtomic(envPath, mergeEnvText(readEnvFile(envPath), entries));
  } catch (err) {
    // The token is spent and the secret only lived in memory: say so plainly.
    return fail(
      ExitCode.FAILURE,
      `enrolled, but ${(err as Error).message}`,
      'the credentials were not saved; ask for a new enrolment token and rerun',
    );
  }
  // docker run --env-file takes everything after `=` literally, quotes included
  const quoted = entries.filter(([, v]) => formatEnvValue(v) !== v).map(([k]) => k);
  const readers =
    quoted.length === 0
      ? `systemd EnvironmentFile=, docker --env-file, \`set -a; . ${envPath}; set +a\``
      : `systemd EnvironmentFile=, \`set -a; . ${envPath}; set +a\`; docker --env-file keeps quotes as ` +
        `part of the value: pass ${quoted.join(', ')} with -e instead`;
  io.stdout(
    `enrolled gateway ${printable(creds.gatewayId)}${creds.tenant ? ` (tenant ${printable(creds.tenant)})` : ''}\n` +
      `wrote ${envPath} (mode 0600):\n` +
      entries.map(([k, v]) => `  ${k}=${shown(k, v)}\n`).join('') +
      `load it into the sidecar environment (${readers}) and keep it private\n`,
  );
  return ExitCode.OK;
}

/** A value written to the env file as the operator is shown it. */
function shown(key: string, value: string): string {
  if (SECRET_KEYS.has(key)) return masked(value);
  return URL_KEYS.has(key) ? shownUrl(value) : value;
}

/**
 * A URL as shown: user info, query and fragment may carry a credential (a wake URL's token, a
 * signature after `#`), so a URL with any of them is shown without them, saying so; the file keeps
 * it as given.
 */
function shownUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactUrl(url);
  }
  const hidden = u.username || u.password || u.search || u.hash;
  return hidden ? `${redactUrl(url)} (user info, query and fragment not shown)` : url;
}

/** A secret as shown to the operator: its length only. */
export function masked(value: string): string {
  return value === '' ? '(empty)' : `<hidden, ${value.length} chars>`;
}
