#!/usr/bin/env node
/**
 * The `relay-sidecar` command line. `buildProgram()` assembles the commands (other modules add
 * theirs to it); the program runs only when this file is the process entry point.
 *
 * Exit codes are those of `exit-codes.ts`; usage errors (unknown option, missing value) exit 2.
 */
import 'reflect-metadata';
// first: V8 settings must be in place before hot code runs
import './v8-flags.js';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { errorMessage } from '../../core/errors.js';
import { type CliIo, processIo } from './cli-io.js';
import { registerCommands } from './commands.js';
import { ExitCode, exitCodesText } from './exit-codes.js';
import { commandNames, usageErrorText } from './usage-errors.js';

/** The package version, or `0.0.0` when package.json cannot be read. */
function packageVersion(): string {
  try {
    // dist/sidecar/cli/main.js → package.json three levels up.
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * The program with every built-in command. Errors do not exit the process: commander throws a
 * `CommanderError` that {@link main} turns into an exit code. Commands added with
 * `program.command(...)` inherit this behaviour and the output routing. `argv` is the command line
 * it will parse: no usage error repeats an argument of it (usage-errors.ts).
 */
export function buildProgram(io: CliIo = processIo(), argv: readonly string[] = process.argv): Command {
  const program = new Command('relay-sidecar')
    .description(
      'Outbound-only relay sidecar: connects an AI agent to chat platforms through a relay connector',
    )
    .version(packageVersion())
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      // no argument typed is echoed: it may be a credential pasted in the wrong place
      outputError: (s, write) => write(usageErrorText(s, argv, commandNames(program))),
    })
    .showHelpAfterError('(run with --help for usage)')
    // what a supervisor or script acts on, with only --help to go on (docs/errors.md has more)
    .addHelpText(
      'after',
      `\nExit codes: ${exitCodesText()}.\n` +
        'Settings: environment (GATEWAY_RELAY_*, SIDECAR_*, AGENT_*, LOG_*) over the config file;\n' +
        'every key with its unit, default and variable is in docs/config.md.\n',
    );
  registerCommands(program, io);
  return program;
}

/**
 * Parse `argv` (node + script + args) and run the chosen command; resolves with the exit code.
 * Help and version exit 0; usage errors exit {@link ExitCode.CONFIG}.
 */
export async function main(argv: readonly string[] = process.argv, io: CliIo = processIo()): Promise<number> {
  let code: number = ExitCode.OK;
  const recording: CliIo = {
    ...io,
    setExitCode: (c) => {
      code = c;
    },
  };
  try {
    await buildProgram(recording, argv).parseAsync([...argv]);
  } catch (err) {
    if (!(err instanceof CommanderError)) {
      io.stderr(`relay-sidecar: unexpected error: ${errorMessage(err)}\n`);
      return ExitCode.FAILURE;
    }
    // --help and --version carry exit code 0; usage errors (and a bare `relay-sidecar`) carry 1.
    return err.exitCode === 0 ? ExitCode.OK : ExitCode.CONFIG;
  }
  return code;
}

/** True when this module is the script node was started with (also through an npm bin symlink). */
function invokedAsEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * A reader that went away (`relay-sidecar doctor | head -1`) fails every later write with EPIPE:
 * those writes are dropped and the command ends with its own exit code, instead of an unhandled
 * 'error' event printing a stack trace. Any other stream error still ends the process.
 */
function dropWritesToClosedPipes(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

if (invokedAsEntry()) {
  dropWritesToClosedPipes(process.stdout);
  dropWritesToClosedPipes(process.stderr);
  main().then((code) => {
    process.exitCode = code;
  });
}
