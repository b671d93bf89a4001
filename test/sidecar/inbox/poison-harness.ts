/**
 * Shared set-up of the poison and replay tests: the plugins of their host, made once per test file
 * with sharedHost as inbox-harness.ts asks.
 */
import { join } from 'node:path';
import { repoRoot } from '../../helpers/repo-root.js';
import { fixturePlugin } from './inbox-harness.js';

/** echo, and the built-in discord converter (passthrough only: the echo tests see no difference). */
export const ECHO_AND_DISCORD = [
  fixturePlugin('echo'),
  {
    name: 'discord-interaction',
    module: join(repoRoot(), 'dist', 'plugins', 'discord-interaction', 'index.js'),
  },
];
