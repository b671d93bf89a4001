/**
 * `relay-sidecar run`: start the sidecar from env / config file / plugins.json, print a start-up
 * summary, and run until SIGTERM/SIGINT (graceful drain; a second signal forces exit) or until
 * the connector revokes the credentials (exit 3).
 */
import type { ConfigWarning } from '../../core/config/env-map.js';
import type { ListenAddress } from '../../core/config/listen-address.js';
import { loadConfig } from '../../core/config/load.js';
import type { Config } from '../../core/config/schema.js';
import { unknownEnv, unknownEnvWarning } from '../../core/config/unknown-env.js';
import { systemClock } from '../../core/di/clock.js';
import {
  armWorkBound,
  armWorkDeadline,
  type PauseMeter,
  startPauseMeter,
} from '../../core/di/pause-meter.js';
import { RelayError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import { dialUrl, redactUrl } from '../../core/transport/dial-url.js';
import type { Sidecar } from '../app.js';
import type { CliIo } from './cli-io.js';
import { withEnvFile } from './env-file.js';
import { ExitCode, exitCodeFor, withCode } from './exit-codes.js';

/** Options of `run`. */
export interface RunOptions {
  /** Config file (overrides SIDECAR_CONFIG). */
  config?: string;
  /** Plugin manifest (overrides SIDECAR_PLUGINS). */
  plugins?: string;
  /** Env file whose settings go on top of the environment (e.g. the `.env.relay` enroll wrote). */
  envPath?: string;
}

/** Process hooks `run` needs; tests pass their own. */
export interface RunHooks {
  /** Subscribe to termination signals; returns an unsubscribe function. */
  onSignal(listener: (signal: string) => void): () => void;
  /** Leave now with `code` (second signal, shutdown budget exceeded). */
  forceExit(code: number): void;
  /** The logger to use; default a pino root logger from the config. */
  logger?: (config: Config) => Logger;
  /**
   * The drain finished with `code`, `leftMs` before the budget ends, on `meter`'s time when given
   * (the drain's: its pauses left out; it is the hook's from now on, still running). The real
   * process leaves by then even if a cut-off close (a socket's close grace, a pool) still holds
   * the event loop.
   */
  drained?(code: number, leftMs: number, meter?: PauseMeter): void;
}

/** After a refused start, the process leaves within this even if something holds it, ms. */
const START_FAILED_EXIT_MS = 1_000;

/** The real process signals. */
export function processHooks(): RunHooks {
  return {
    onSignal(listener) {
      const handler = (signal: NodeJS.Signals) => listener(signal);
      process.on('SIGTERM', handler);
      process.on('SIGINT', handler);
      return () => {
        process.off('SIGTERM', handler);
        process.off('SIGINT', handler);
      };
    },
    forceExit: (code) => process.exit(code),
    drained(code, leftMs, meter) {
      // unref'd: normally the event loop empties first and the process ends on its own. On the
      // drain's meter, as the rest of the drain: a plain timer counted a freeze (its resume exited
      // before what came meanwhile was read) and moved with a step of the wall clock
      armWorkBound(systemClock, leftMs, () => process.exit(code), meter);
    },
  };
}

/** The connector URL for display: normalised, without user info or query. */
export function displayUrl(url: string): string {
  return redactUrl(dialUrl(url));
}

/** The gateway, and whether the dial is authenticated: an id without a secret dials without one. */
function gatewayLine(relay: Config['relay']): string {
  if (relay.gatewayId && relay.secret) return relay.gatewayId;
  // with an identity token the secret was to come from the boot's provisioning, which is fail-soft
  const why = relay.identityToken
    ? 'provisioning failed at start (CORE_ERR_PROVISION_FAILED in the log): unauthenticated dial'
    : 'unauthenticated dial, dev only';
  if (!relay.gatewayId) return `(none: ${why})`;
  return relay.identityToken
    ? `${relay.gatewayId} (${why})`
    : `${relay.gatewayId} (no GATEWAY_RELAY_SECRET: ${why})`;
}

/** The start-up summary: what an operator checks first. Never a secret. */
export function startupSummary(sc: Sidecar): string {
  const c = sc.config;
  const address = sc.api.address();
  const plugins = sc.plugins.plugins.map((p) => `${p.name}${p.enabled ? '' : ' (disabled)'}`).join(', ');
  const lines = [
    'relay-sidecar started',
    `  gateway id   ${gatewayLine(c.relay)}`,
    `  identities   ${c.relay.identities.map((i) => `${i.platform}${i.botId ? `/${i.botId}` : ''}`).join(', ')}`,
    `  connector    ${c.relay.url ? displayUrl(c.relay.url) : '(none)'}`,
    `  plugins      ${plugins || '(none)'}`,
    // push delivery sends an AGENT_URL's user:pass@ as Basic auth: show it as the logs do, redacted
    `  agent        ${c.agent.mode}${c.agent.mode === 'push' ? ` → ${redactUrl(c.agent.url ?? '')}` : ' (GET /v1/events)'}`,
    `  api          ${address ? formatAddress(address) : '(not listening)'}`,
    `  data dir     ${c.dataDir}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `http://host:port` or `unix:/path`. */
export function formatAddress(a: ListenAddress): string {
  return a.kind === 'unix'
    ? `unix:${a.path}`
    : `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** Run until stopped; resolves with the exit code. Never throws. */
export async function runRun(opts: RunOptions, io: CliIo, hooks: RunHooks = processHooks()): Promise<number> {
  let config: Config;
  try {
    const base = opts.envPath === undefined ? io.env : withEnvFile(io.env, io.cwd, opts.envPath);
    const env = { ...base, ...(opts.plugins ? { SIDECAR_PLUGINS: opts.plugins } : {}) };
    // a misspelt name is otherwise silently ignored, its default used: said before anything else
    for (const u of unknownEnv(env)) io.stderr(`run: warning: ${unknownEnvWarning(u)}\n`);
    // what the load leaves unused (a GATEWAY_RELAY_BOT_IDS entry), from its own parse
    const warn = (w: ConfigWarning) => io.stderr(`run: warning: ${w.message}\n`);
    config = loadConfig({ env, file: opts.config, warn });
  } catch (err) {
    io.stderr(`run: ${withCode(err)}\n`);
    return exitCodeFor(err);
  }
  if (!config.relay.url) {
    io.stderr(
      'run: CORE_ERR_CONFIG_INVALID: GATEWAY_RELAY_URL (or relay.url in the config file) is required: the connector base URL, e.g. https://relay.example.com\n',
    );
    return ExitCode.CONFIG;
  }
  const log = hooks.logger?.(config) ?? createLogger({ level: config.log.level, pretty: config.log.pretty });
  // what the sidecar creates (store, WAL, lock) is its user's alone, whatever the data directory's
  // mode: the store holds conversations (files 0600, directories 0700)
  process.umask(0o077);
  let sidecar: Sidecar;
  try {
    // read once the configuration has loaded: a refused one is said without loading the sidecar
    // (~0.5 s of CPU: undici, prom-client, the store, the pool, the agent API)
    const { Sidecar } = await import('../app.js');
    sidecar = await Sidecar.start(config, { log });
  } catch (err) {
    // the log (stdout, JSON) gets the code like every other failure; stderr the sentence
    if (err instanceof RelayError)
      reportError(log, undefined, err.code, 'start failed', { error: err.message }, 'error');
    io.stderr(`run: ${withCode(err)}\n`);
    const code = exitCodeFor(err);
    // a plugin module's top level may have left a timer or socket on this thread as it failed to
    // load: leave anyway, rather than stay up after "start failed" with a supervisor none the wiser
    hooks.drained?.(code, START_FAILED_EXIT_MS);
    return code;
  }
  io.stderr(startupSummary(sidecar));
  return new Promise<number>((resolveExit) => {
    let signals = 0;
    /** When the drain's budget ends, on its meter's time (never the wall clock: a step moved it). */
    let deadline: number | undefined;
    let finished = false;
    const finish = (code: number) => {
      // a signal during the revocation drain shares that drain: the first outcome wins
      if (finished) return;
      finished = true;
      offSignal();
      offState();
      log.flush?.();
      const left = meter && deadline !== undefined ? Math.max(0, deadline - meter.now()) : 0;
      // the meter runs on for the hook's bound on the exit, else it stops here
      if (hooks.drained) hooks.drained(code, left, meter);
      else meter?.stop();
      resolveExit(code);
    };
    // one meter for the drain and the forced exit, whichever starts the drain (a signal, or the
    // revocation with a signal during its drain): each of its own could count a pause of about
    // 1 s that the other did not
    let meter: PauseMeter | undefined;
    const drainMeter = () => {
      meter ??= startPauseMeter();
      return meter;
    };
    const stop = () => {
      const drain = drainMeter();
      deadline ??= drain.now() + config.shutdown.budgetMs;
      return sidecar.stop(drain);
    };
    const offSignal = hooks.onSignal((signal) => {
      signals += 1;
      if (signals > 1) {
        io.stderr(`run: second ${signal}: exiting now\n`);
        hooks.forceExit(130);
        return;
      }
      io.stderr(`run: ${signal}: draining (budget ${config.shutdown.budgetMs} ms; send again to force)\n`);
      // a freeze (SIGSTOP, a paused VM) stopped the drain too, and the drain's budget leaves it
      // out: the exit counts the same time, so an agent's answer that came meanwhile is read and
      // recorded (exiting at the resume left the row pending: delivered again after the restart)
      const exit = () => {
        io.stderr('run: shutdown budget exceeded: exiting now\n');
        hooks.forceExit(ExitCode.FAILURE);
      };
      const force = armWorkDeadline(systemClock, drainMeter(), config.shutdown.budgetMs + 1_000, exit);
      void stop().then(() => {
        force.clear();
        finish(ExitCode.OK);
      });
    });
    const offState = sidecar.client.onState((state) => {
      if (state !== 'revoked') return;
      if (config.relay.stayUpWhenRevoked) {
        // still say it once: an operator tailing stderr must not mistake this for a healthy idle
        io.stderr(
          'run: the connector revoked this gateway (4401 twice); staying up for inspection ' +
            '(relay.stayUpWhenRevoked): /readyz answers 503, no more dials. Re-enrol with ' +
            '`relay-sidecar enroll`, then restart.\n',
        );
        return;
      }
      io.stderr(
        'run: the connector revoked this gateway (4401 twice). Re-enrol with `relay-sidecar enroll` ' +
          'or ask the connector operator; set relay.stayUpWhenRevoked to keep the API up for inspection.\n',
      );
      void stop().then(() => finish(ExitCode.REVOKED));
    });
  });
}
