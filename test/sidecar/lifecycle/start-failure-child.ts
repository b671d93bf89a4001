/**
 * A child process for `start-failure.test.ts`: `Sidecar.start` on the config given as JSON in
 * argv[2] (nested form, validated by the test config), offline. A refused start prints its error
 * code on stdout and sets exit code 2, and nothing else is done: the process must then end on
 * its own, which it only does when the start closed everything it had opened.
 */
import { createLogger } from '../../../core/log/logger.js';
import { Sidecar } from '../../../sidecar/app.js';
import { testConfig } from '../../helpers/test-config.js';

const config = testConfig(JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>);
try {
  const sidecar = await Sidecar.start(config, { log: createLogger({ level: 'silent' }), offline: true });
  process.stdout.write('started\n');
  await sidecar.stop();
} catch (err) {
  process.stdout.write(`refused ${(err as { code?: string }).code ?? 'unknown'}\n`);
  process.exitCode = 2;
}
