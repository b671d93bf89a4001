/**
 * The setup of the freeze tests: a dev connector, a loopback agent and the real CLI on one data
 * directory, and the stop (SIGSTOP) and resume (SIGCONT) of that process.
 */
import type { ExecutionContext } from 'ava';
import type { DevConnector } from '../../sidecar/dev-connector/dev-connector.js';
import {
  type AgentReply,
  type AgentScript,
  type LoopbackAgent,
  startAgent,
} from '../helpers/loopback-agent.js';
import { type SidecarProcess, startSidecarProcess } from '../helpers/sidecar-process.js';
import { textOf } from './agent-tools.js';
import { CHILD_TUNABLES, deepMergeAll, relayEnv, secretOf, startConnector, tempDir } from './e2e-harness.js';

/**
 * The deadline the freeze tests set: long enough for the (busy) test process to answer before it
 * expires unfrozen. Each test file runs serially: sidecars starting side by side on a shared
 * machine slowed the test's answers past shorter deadlines.
 */
export const DEADLINE_MS = 1_000;
/** How long a test stops the CLI from the answer: the deadline fires at least 2 s late. */
export const FREEZE_MS = 3_000;

/** The chat the freeze tests use. */
export const chat = { channel: 'c-1', user: 'u-1' };

/** Resolve after `ms`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stop process `pid` now and resume it after `ms`. */
export function freezeFor(pid: number, ms: number): void {
  process.kill(pid, 'SIGSTOP');
  setTimeout(() => process.kill(pid, 'SIGCONT'), ms);
}

/** What a freeze test starts. */
export interface FreezeStack {
  readonly connector: DevConnector;
  readonly agent: LoopbackAgent;
  readonly proc: SidecarProcess;
  readonly token: string;
  /** Starts another CLI on the same data directory, connector and agent (after a stop). */
  restart(): Promise<SidecarProcess>;
}

/** Options of {@link startFreezeStack}. */
export interface FreezeStackOptions {
  /** Merged over {@link CHILD_TUNABLES}. */
  readonly config: Record<string, unknown>;
  /** A connector of the test's own, for the relay `secret` (default: a plain dev connector). */
  readonly connector?: (secret: string) => Promise<DevConnector>;
  readonly script?: AgentScript;
  /** Return once spawned, before the sidecar is ready. */
  readonly noWait?: boolean;
}

/** Start connector, agent and CLI; everything is closed at teardown. */
export async function startFreezeStack(
  t: ExecutionContext,
  options: FreezeStackOptions,
): Promise<FreezeStack> {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const dataDir = tempDir(t);
  const connector = await (options.connector?.(secret) ?? startConnector(t, secret));
  if (options.connector) t.teardown(() => connector.close());
  const agent = await startAgent(t, { token, ...(options.script ? { script: options.script } : {}) });
  const start = async (noWait: boolean) => {
    const proc = await startSidecarProcess(t, {
      env: relayEnv(connector, secret, { url: agent.url, token, dataDir }),
      config: deepMergeAll(CHILD_TUNABLES, options.config),
      configDir: dataDir,
      noWait,
    });
    t.teardown(() => proc.kill());
    return proc;
  };
  const proc = await start(options.noWait ?? false);
  return { connector, agent, proc, token, restart: () => start(false) };
}

/** An agent script that holds its answer (`reply`, default 200) to the first delivery of `text` until `release()`. */
export function heldAnswer(
  text: string,
  reply: AgentReply = { status: 200 },
): { script: AgentScript; held: () => boolean; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = false;
  const script: AgentScript = async (delivery) => {
    if (textOf(delivery) !== text || held) return {};
    held = true;
    await released;
    return reply;
  };
  return { script, held: () => held, release };
}
