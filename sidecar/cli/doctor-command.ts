/**
 * `relay-sidecar doctor`: check what `run` would need — configuration, connector URL and
 * credentials, the plugin manifest and every enabled plugin, the scope-reattacher, the data dir and
 * api token permissions, the store (schema version, damage), the API address, the agent (push mode) and a real dial to the connector
 * that stops after the handshake — printing one line per check with a fix for each problem. Read-only: it creates no
 * file, sends no frame beyond the hellos, and never prints a secret.
 */
import { resolve } from 'node:path';
import { type ConfigWarning, envValue } from '../../core/config/env-map.js';
import { loadConfig } from '../../core/config/load.js';
import type { Config } from '../../core/config/schema.js';
import { unknownEnv } from '../../core/config/unknown-env.js';
import { silentLogger } from '../../core/log/logger.js';
import type { SocketFactory } from '../../core/transport/relay-client.js';
import type { CliIo } from './cli-io.js';
import { DEFAULT_DOCTOR_TIMEOUT_MS } from './commands.js';
import {
  type CheckResult,
  checkApiAddress,
  checkConnectorUrl,
  checkCredentials,
  doctorExitCode,
  fail,
  formatCheck,
  warn,
} from './doctor-checks.js';
import { checkPluginOps, dialCheck, probeConnector } from './doctor-dial.js';
import { checkApiToken, checkDataDir } from './doctor-permissions.js';
import { checkAgent, checkPlugins, codeAndMessage } from './doctor-probes.js';
import { checkStore } from './doctor-store.js';
import { checkUnits } from './doctor-units.js';
import { withEnvFile } from './env-file.js';
import { ExitCode } from './exit-codes.js';

/** Largest `--timeout-ms` accepted, ms. */
export const MAX_DOCTOR_TIMEOUT_MS = 600_000;

/** Options of `doctor`. */
export interface DoctorOptions {
  /** Config file, as `run --config` (overrides SIDECAR_CONFIG). */
  config?: string;
  /** Plugin manifest, as `run --plugins` (overrides SIDECAR_PLUGINS). */
  plugins?: string;
  /** Read settings from this env file too; its values win over the process environment. */
  envPath?: string;
  /** Budget of the connector dial (upgrade + descriptor), ms; default 10 000. */
  timeoutMs?: string | number;
  /** Socket factory override for the dial (tests). */
  socketFactory?: SocketFactory;
}

/** Run `doctor`; prints one line per check and returns the exit code (never throws). */
export async function runDoctor(opts: DoctorOptions, io: CliIo): Promise<ExitCode> {
  const timeoutMs = opts.timeoutMs === undefined ? DEFAULT_DOCTOR_TIMEOUT_MS : Number(opts.timeoutMs);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_DOCTOR_TIMEOUT_MS) {
    io.stderr(
      `doctor: --timeout-ms must be a whole number of milliseconds from 1 to ${MAX_DOCTOR_TIMEOUT_MS}\n`,
    );
    return ExitCode.CONFIG;
  }
  const results: CheckResult[] = [];
  const report = (r: CheckResult) => {
    results.push(r);
    io.stdout(`${formatCheck(r)}\n`);
  };

  const fromEnv = environment(opts, io, report);
  // the options win, as they do for `run`
  const env = fromEnv && {
    ...fromEnv,
    ...(opts.config ? { SIDECAR_CONFIG: opts.config } : {}),
    ...(opts.plugins ? { SIDECAR_PLUGINS: opts.plugins } : {}),
  };
  const config = env && loadChecked(env, io, report);
  if (config) await checkAll(config, timeoutMs, opts, io, report);
  io.stdout(`${summary(results, config !== undefined)}\n`);
  return doctorExitCode(results);
}

/** The environment to check: the process's, with `--env-path` on top; undefined when unusable. */
function environment(
  opts: DoctorOptions,
  io: CliIo,
  report: (r: CheckResult) => void,
): NodeJS.ProcessEnv | undefined {
  if (opts.envPath === undefined) return io.env;
  try {
    return withEnvFile(io.env, io.cwd, opts.envPath);
  } catch (err) {
    const fix = 'pass the file `relay-sidecar enroll` wrote, readable by this user';
    report(fail('env file', codeAndMessage(err), fix));
    return undefined;
  }
}

/** Load the configuration (a relative SIDECAR_CONFIG resolves against the working directory). */
function loadChecked(
  env: NodeJS.ProcessEnv,
  io: CliIo,
  report: (r: CheckResult) => void,
): Config | undefined {
  const named = envValue(env, 'SIDECAR_CONFIG');
  const file = named ? resolve(io.cwd, named) : undefined;
  // a misspelt name is otherwise silently ignored: its default is what the checks below see
  for (const u of unknownEnv(env)) {
    const fix = u.suggestion ? `rename it ${u.suggestion}` : 'remove it, or see docs/config.md for the names';
    report(warn('env', `${u.name} is set but relay-sidecar does not read it`, fix));
  }
  // what the load leaves unused (a GATEWAY_RELAY_BOT_IDS entry), said as it loads
  const unused = (w: ConfigWarning) => report(warn('env', w.message, w.fix));
  try {
    const config = loadConfig({ env, ...(file ? { file } : {}), warn: unused });
    report({ status: 'ok', name: 'config', detail: file ? `loaded (env and ${file})` : 'loaded (env)' });
    return config;
  } catch (err) {
    // Config errors name the key and the problem, never the value (it may be a secret).
    const fix = 'correct the named keys in the environment or SIDECAR_CONFIG (see docs/config.md)';
    report(fail('config', codeAndMessage(err), fix));
    return undefined;
  }
}

/** Every check after the configuration, in the order an operator fixes things. */
async function checkAll(
  config: Config,
  timeoutMs: number,
  opts: DoctorOptions,
  io: CliIo,
  report: (r: CheckResult) => void,
): Promise<void> {
  const log = silentLogger();
  const url = checkConnectorUrl(config.relay.url);
  report(url.result);
  report(checkCredentials(config.relay));
  const units = checkUnits(config);
  if (units) report(units);
  const manifestPath = resolve(io.cwd, config.pluginsPath);
  const plugins = await checkPlugins(config, manifestPath, log);
  for (const r of plugins.results) report(r);
  const dataDir = resolve(io.cwd, config.dataDir);
  report(checkDataDir(dataDir));
  report(checkStore(dataDir));
  report(checkApiToken(config, dataDir));
  report(checkApiAddress(config.api.listen));
  report(await checkAgent(config, timeoutMs));
  if (url.dial === undefined) return;
  const outcome = await probeConnector({
    config,
    timeoutMs,
    log,
    ...(opts.socketFactory ? { socketFactory: opts.socketFactory } : {}),
  });
  const { gatewayId, secret } = config.relay;
  report(
    dialCheck(outcome, {
      dial: url.dial,
      authenticated: !!(gatewayId && secret),
      selfProvisions: !!config.relay.identityToken,
      ...(gatewayId ? { gatewayId } : {}),
      timeoutMs,
      platforms: config.relay.identities.map((i) => i.platform),
    }),
  );
  if (outcome.kind === 'ready' && plugins.ops.length > 0) report(checkPluginOps(plugins.ops, outcome.ops));
}

/** The closing line: counts, and a note when the configuration stopped the other checks. */
function summary(results: readonly CheckResult[], configLoaded: boolean): string {
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  const skipped = configLoaded ? '' : ' (the other checks need a loadable configuration)';
  if (failed === 0 && warned === 0) return `doctor: all ${results.length} checks passed`;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `doctor: ${plural(failed, 'problem')}, ${plural(warned, 'warning')}${skipped}`;
}
