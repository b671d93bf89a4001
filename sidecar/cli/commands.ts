/**
 * The built-in commands' names, options and help, with each command's work loaded only when that
 * command runs. Loading every command's modules up front cost ~1 s of CPU on each start
 * (`--help`, `--version`, a usage error, `token` read the whole sidecar: undici, zod's schemas,
 * prom-client, the dev connector, the doctor); now each reads what it uses.
 */
import type { Command } from 'commander';
import { MAX_LIST } from '../agent-api/dead-letter-routes.js';
import type { CliIo } from './cli-io.js';
import type { ConnectorOptions } from './connector-command.js';
import type { DeadLetterAction, DeadLetterSource } from './dead-letters-command.js';
import type { DoctorOptions } from './doctor-command.js';
import type { EnrollOptions } from './enroll-command.js';
import { ExitCode } from './exit-codes.js';
import type { RunOptions } from './run-command.js';
import type { TokenOptions } from './token-command.js';

/** Default env file of `enroll`, relative to the working directory. */
export const DEFAULT_ENV_FILE = '.env.relay';
/** Default TCP port of `connector`. */
export const DEFAULT_CONNECTOR_PORT = 8787;
/** Default budget of `doctor`'s connector dial, ms. */
export const DEFAULT_DOCTOR_TIMEOUT_MS = 10_000;

/** Every built-in command, in the order `--help` lists them. */
export function registerCommands(program: Command, io: CliIo): void {
  registerRun(program, io);
  registerDemo(program, io);
  registerDeadLetters(program, io);
  registerEnroll(program, io);
  registerToken(program, io);
  registerDoctor(program, io);
  registerConnector(program, io);
}

function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('start the sidecar (config from env, --config file and plugins.json)')
    .option('-c, --config <file>', 'config file (YAML or JSON); default $SIDECAR_CONFIG')
    .option('-p, --plugins <file>', 'plugin manifest; default $SIDECAR_PLUGINS or ./plugins.json')
    .option(
      '--env-path <path>',
      'also read settings from this env file (e.g. .env.relay), over the environment',
    )
    .action(async (opts: RunOptions) => {
      const { runRun } = await import('./run-command.js');
      io.setExitCode(await runRun(opts, io));
    });
}

function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('run a loopback connector, the sidecar and an echo agent; drive five round trips')
    .action(async () => {
      const { runDemo } = await import('../demo/run-demo.js');
      const ok = await runDemo({ out: (line) => io.stdout(`${line}\n`) });
      io.setExitCode(ok ? ExitCode.OK : ExitCode.FAILURE);
    });
}

function registerDeadLetters(program: Command, io: CliIo): void {
  const run = async (action: DeadLetterAction, opts: DeadLetterSource) => {
    const { runDeadLetters } = await import('./dead-letters-command.js');
    io.setExitCode(await runDeadLetters(action, io, opts));
  };
  const cmd = program
    .command('dead-letters')
    .description(
      'list, show or replay dead letters (via the API of the running sidecar, else from its store: a replay is then queued for its next start)',
    );
  withSource(cmd.command('list'))
    .description('one line per dead letter: id, when, kind, code and why')
    .option('-n, --limit <n>', `how many, newest first, 1 to ${MAX_LIST}`, '50')
    .action((opts: DeadLetterSource & { limit: string }) =>
      run({ kind: 'list', limit: Number(opts.limit) }, opts),
    );
  withSource(cmd.command('show <id>'))
    .description('one dead letter in full, as JSON')
    .action((id: string, opts: DeadLetterSource) => run({ kind: 'show', id }, opts));
  withSource(cmd.command('replay <id>'))
    .description('run a dead letter again (when the sidecar is stopped: at its next start)')
    .action((id: string, opts: DeadLetterSource) => run({ kind: 'replay', id }, opts));
}

/** The options that say where the sidecar's settings are, as `run` takes them. */
function withSource(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file of the sidecar, as for run; default $SIDECAR_CONFIG')
    .option(
      '--env-path <path>',
      'env file of the sidecar, as for run (e.g. .env.relay), over the environment',
    );
}

function registerEnroll(program: Command, io: CliIo): void {
  program
    .command('enroll')
    .description('enrol this gateway with the connector and write its credentials to an env file (0600)')
    .option('--token <token>', 'single-use enrolment token (env GATEWAY_RELAY_ENROLL_TOKEN)')
    .option('--gateway-id <id>', 'gateway id to enrol (env GATEWAY_RELAY_ID)')
    .option('--connector-url <url>', 'connector base URL, http(s) or ws(s) (env GATEWAY_RELAY_URL)')
    .option('--wake-url <url>', 'URL the connector may GET to wake this gateway (env GATEWAY_RELAY_WAKE_URL)')
    .option(
      '--identity-token <token>',
      'caller identity bearer (env GATEWAY_RELAY_IDENTITY_TOKEN; prefer the env: command lines are visible)',
    )
    .option('--env-path <path>', 'env file to create or update', DEFAULT_ENV_FILE)
    .action(async (opts: EnrollOptions) => {
      const { runEnroll } = await import('./enroll-command.js');
      io.setExitCode(await runEnroll(opts, io));
    });
}

function registerToken(program: Command, io: CliIo): void {
  program
    .command('token')
    .description('print a fresh upgrade token for GATEWAY_RELAY_ID / GATEWAY_RELAY_SECRET (debugging)')
    .option('-c, --config <file>', 'config file of the sidecar, as for run; default $SIDECAR_CONFIG')
    .option('--env-path <path>', 'read the credentials from this env file (e.g. .env.relay)')
    .option('--ttl <seconds>', 'token lifetime in seconds (default relay.tokenTtlS, 300)')
    .action(async (opts: TokenOptions) => {
      const { runToken } = await import('./token-command.js');
      io.setExitCode(runToken(opts, io));
    });
}

function registerDoctor(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .description(
      'check configuration, plugins, permissions, the store, the agent and a real dial to the connector; one line per check',
    )
    .option('-c, --config <file>', 'config file, as for run; default $SIDECAR_CONFIG')
    .option('-p, --plugins <file>', 'plugin manifest, as for run; default $SIDECAR_PLUGINS or ./plugins.json')
    .option('--env-path <path>', 'also read settings from this env file (e.g. .env.relay)')
    .option('--timeout-ms <ms>', `budget of the connector dial (default ${DEFAULT_DOCTOR_TIMEOUT_MS})`)
    .action(async (opts: DoctorOptions) => {
      const { runDoctor } = await import('./doctor-command.js');
      io.setExitCode(await runDoctor(opts, io));
    });
}

/** `connector`: SIGINT/SIGTERM stop it, a second signal exits at once. */
function registerConnector(program: Command, io: CliIo): void {
  program
    .command('connector')
    .description(
      'run the loopback dev connector: print every frame, inject frames from stdin (plugin authors)',
    )
    .option('--port <port>', 'TCP port on 127.0.0.1 (0 = any free port)', String(DEFAULT_CONNECTOR_PORT))
    .option('--host <host>', 'listen address; loopback only', '127.0.0.1')
    .option('--secret <secret>', 'require upgrade tokens signed with this secret (repeatable)', collect)
    .option(
      '--descriptor-file <json>',
      'descriptor fields for every hello, or {"platforms": {"<name>"|"*": {…}}}',
    )
    .option('--no-auto-result', 'do not answer outbounds; inject outbound_result frames yourself')
    .option('--exit-on-eof', 'stop when stdin ends')
    .action(async (opts: ConnectorOptions) => {
      const ac = new AbortController();
      const onSignal = () => {
        if (!ac.signal.aborted) return ac.abort();
        io.stderr('connector: second signal, exiting now\n');
        process.exit(ExitCode.FAILURE);
      };
      // listening before the import: a signal while the connector's modules load still stops it
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const { runConnector } = await import('./connector-command.js');
        io.setExitCode(await runConnector(opts, io, { stdin: process.stdin, signal: ac.signal }));
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // A paused stdin pipe would still hold the event loop open.
        process.stdin.destroy();
      }
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
