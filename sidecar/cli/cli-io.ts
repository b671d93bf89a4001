/**
 * What a CLI command touches of its process: output streams, environment, working directory,
 * clock and exit code. Commands take it as a parameter so tests run them in-process with
 * captured output and a private environment.
 */

/** The process as seen by a command. */
export interface CliIo {
  /** Write to standard output (text as is; add `\n` yourself). */
  stdout(text: string): void;
  /** Write to standard error. */
  stderr(text: string): void;
  /** The environment to read configuration from. */
  readonly env: NodeJS.ProcessEnv;
  /** Directory relative paths resolve against. */
  readonly cwd: string;
  /** Milliseconds since the epoch. */
  nowMs(): number;
  /** Record the exit code (the process exits with it once the event loop is empty). */
  setExitCode(code: number): void;
}

/** The real process. */
export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    nowMs: () => Date.now(),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}
