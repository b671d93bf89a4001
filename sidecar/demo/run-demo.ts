/**
 * `relay-sidecar demo`: a real end-to-end run on loopback with no configuration — the dev
 * connector, the sidecar (real socket, pool, SQLite inbox, HTTP API) and an echo agent — driving
 * five round trips and printing each hop. Resolves true only when every round trip completed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../../core/config/load.js';
import { createLogger } from '../../core/log/logger.js';
import { Sidecar } from '../app.js';
import { DevConnector, defaultDescriptor, type RecordedFrame } from '../dev-connector/index.js';
import { type AgentTurn, EchoAgent } from './echo-agent.js';
import * as sample from './samples.js';
import { frameLine, turnLines } from './transcript.js';

/** Where the demo writes. */
export interface DemoIo {
  out(line: string): void;
}

/** Per round-trip wait, ms. */
const STEP_TIMEOUT_MS = 15_000;

type Outbound = { op?: string; metadata?: Record<string, unknown>; [k: string]: unknown };
const actionOf = (r: RecordedFrame): Outbound => (r.frame.action ?? {}) as Outbound;
const outboundWith = (pred: (a: Outbound) => boolean) => (r: RecordedFrame) =>
  r.dir === 'in' && r.frame.type === 'outbound' && pred(actionOf(r));

/** Run the demo; true when all round trips completed. */
export async function runDemo(io: DemoIo): Promise<boolean> {
  const secret = randomBytes(24).toString('hex');
  const apiToken = randomBytes(24).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-sidecar-demo-'));
  const turns: AgentTurn[] = [];
  const turnWaiters: (() => void)[] = [];
  const connector = await DevConnector.start({
    secrets: [secret],
    descriptorFor: (hello) => defaultDescriptor(hello.platform),
  });
  connector.onFrame((rec) => io.out(frameLine(rec)));
  const agent = await EchoAgent.start(
    () => apiToken,
    (turn) => {
      turns.push(turn);
      for (const line of turnLines(turn)) io.out(line);
      for (const w of turnWaiters.splice(0)) w();
    },
  );
  const config = validateConfig({
    relay: {
      url: connector.url,
      gatewayId: 'demo-gateway',
      secret,
      identities: [
        { platform: 'discord', botId: '987654321098765432' },
        { platform: 'twilio', botId: 'AC0000000000000000000000000000abcd' },
      ],
    },
    agent: { url: agent.url, retryBaseMs: 100 },
    api: { listen: '127.0.0.1:0', token: apiToken },
    dataDir,
    pluginsPath: fileURLToPath(new URL('../../../plugins.json', import.meta.url)),
    log: { level: 'warn' },
  });
  const log = createLogger({ level: 'warn' });
  let sidecar: Sidecar | undefined;
  const results: boolean[] = [];
  const waitTurn = async (pred: (t: AgentTurn) => boolean): Promise<AgentTurn> => {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      const hit = turns.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error('the agent did not receive the delivery');
      await new Promise<void>((ok) => {
        turnWaiters.push(ok);
        setTimeout(ok, 100).unref();
      });
    }
  };
  const step = async (title: string, run: () => Promise<void>) => {
    io.out(`\n▶ ${title}`);
    const t0 = Date.now();
    try {
      await run();
      io.out(`  ✓ round trip complete (${Date.now() - t0} ms)`);
      results.push(true);
    } catch (err) {
      io.out(`  ✗ ${(err as Error).message}`);
      results.push(false);
    }
  };
  try {
    io.out('relay-sidecar demo: connector, sidecar and agent on 127.0.0.1; nothing leaves this machine.');
    io.out(`  connector ${connector.url}   agent ${agent.url}\n`);
    sidecar = await Sidecar.start(config, { log, offline: true });
    await sidecar.waitForState('ready', STEP_TIMEOUT_MS);
    const address = sidecar.api.address();
    const api = address?.kind === 'tcp' ? `http://${address.host}:${address.port}` : '';
    io.out(`  sidecar ready; agent API on ${api}`);

    await step('1. Discord message → agent → send (scope re-attached)', async () => {
      connector.send(sample.discordMessage('hello relay', 'm-1001'));
      const f = await connector.waitFor(
        outboundWith((a) => a.op === 'send' && a.metadata?.scope_id === sample.DISCORD_GUILD),
        STEP_TIMEOUT_MS,
      );
      await connector.waitFor(
        (r) =>
          r.dir === 'out' && r.frame.type === 'outbound_result' && r.frame.requestId === f.frame.requestId,
      );
    });
    await step(
      '2. Discord slash command (passthrough, buffered) → agent → token-less follow_up',
      async () => {
        const bufferId = connector.sendBuffered({
          type: 'passthrough_forward',
          forward: sample.slashCommand(),
        });
        await connector.waitFor(
          (r) => r.dir === 'in' && r.frame.type === 'inbound_ack' && r.frame.bufferId === bufferId,
          STEP_TIMEOUT_MS,
        );
        await connector.waitFor(
          outboundWith((a) => a.op === 'follow_up' && a.kind === 'discord.interaction_token'),
          STEP_TIMEOUT_MS,
        );
      },
    );
    await step('3. Twilio SMS (passthrough) → agent → send to the phone number', async () => {
      connector.send({ type: 'passthrough_forward', forward: sample.twilioSms('what is on my calendar?') });
      await connector.waitFor(
        outboundWith((a) => a.op === 'send' && a.chat_id === '+14155551234'),
        STEP_TIMEOUT_MS,
      );
    });
    await step('4. Prompt with buttons, then a button press answers it', async () => {
      connector.send(sample.discordMessage('deploy?', 'm-1002'));
      const prompt = await connector.waitFor(
        outboundWith((a) => a.op === 'prompt'),
        STEP_TIMEOUT_MS,
      );
      const promptId = String(actionOf(prompt).prompt_id);
      const reply = await connector.waitFor(
        (r) =>
          r.dir === 'out' &&
          r.frame.type === 'outbound_result' &&
          r.frame.requestId === prompt.frame.requestId,
      );
      const messageId = String(
        (reply.frame.result as { message_id?: string } | undefined)?.message_id ?? 'm-prompt',
      );
      connector.send({
        type: 'passthrough_forward',
        forward: sample.buttonPress(promptId, 'approve', messageId),
      });
      await waitTurn((t) => t.envelope.event?.prompt_response?.option_id === 'approve');
      await connector.waitFor(
        outboundWith((a) => a.op === 'send' && String(a.content).includes('approve')),
        STEP_TIMEOUT_MS,
      );
    });
    await step('5. Interrupts: /stop from the platform, and from the agent', async () => {
      connector.send({
        type: 'interrupt_inbound',
        session_key: sample.DISCORD_SESSION,
        chat_id: sample.DISCORD_CHANNEL,
      });
      await waitTurn(
        (t) => t.envelope.type === 'interrupt' && t.envelope.session_key === sample.DISCORD_SESSION,
      );
      const res = await fetch(`${api}/v1/interrupt`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ session_key: sample.DISCORD_SESSION, reason: 'user pressed stop' }),
      });
      if (res.status !== 202) throw new Error(`POST /v1/interrupt answered ${res.status}`);
      await connector.waitFor((r) => r.dir === 'in' && r.frame.type === 'interrupt', STEP_TIMEOUT_MS);
    });
  } catch (err) {
    io.out(`✗ demo could not start: ${(err as Error).message}`);
    results.push(false);
  } finally {
    await sidecar?.stop();
    await agent.close();
    await connector.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const ok = results.length === 5 && results.every(Boolean);
  io.out(
    `\n${ok ? '✓ all 5 round trips completed' : `✗ ${results.filter((r) => !r).length} round trip(s) failed`}`,
  );
  return ok;
}
