/**
 * `relay-sidecar demo`: the one-command end-to-end run (no configuration). Exit 0 only when every
 * round trip completed.
 */
import type { Command } from 'commander';
import { runDemo } from '../demo/run-demo.js';
import type { CliIo } from './cli-io.js';
import { ExitCode } from './exit-codes.js';

/** Register `demo` on the program. */
export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('run a loopback connector, the sidecar and an echo agent; drive five round trips')
    .action(async () => {
      const ok = await runDemo({ out: (line) => io.stdout(`${line}\n`) });
      io.setExitCode(ok ? ExitCode.OK : ExitCode.FAILURE);
    });
}
