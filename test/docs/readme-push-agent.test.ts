/**
 * The README's push-mode agent, run as written (its TypeScript block transpiled, only its port
 * changed), receiving real signed deliveries from a real inbox: an agent built from the docs
 * alone must accept every genuine delivery and refuse a captured one sent again later.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import ts from 'typescript';
import { signDelivery } from '../../sidecar/delivery/signature.js';
import { repoRoot } from '../helpers/repo-root.js';
import { tempDir } from '../helpers/temp-dir.js';
import {
  inbound,
  pushTo,
  rows,
  sharedHost,
  startInbox,
  TOKEN,
  until,
} from '../sidecar/inbox/inbox-harness.js';

const host = sharedHost();

/** The README's TypeScript push agent, as JavaScript listening on `port`. */
function readmeAgent(port: number): string {
  const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
  const block = /TypeScript \(Node 20, no dependencies\):\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README: no TypeScript push agent block');
  if (!block.includes('.listen(9000,')) throw new Error('README: the agent no longer listens on 9000');
  const js = ts.transpileModule(block.replace('.listen(9000,', `.listen(${port},`), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  return js;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

async function startReadmeAgent(t: ExecutionContext): Promise<string> {
  const port = await freePort();
  const file = join(tempDir(t), 'agent.mjs');
  writeFileSync(file, readmeAgent(port));
  const child: ChildProcess = spawn(process.execPath, [file], {
    env: { ...process.env, SIDECAR_API_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const url = `http://127.0.0.1:${port}/`;
  await until(
    async () => {
      try {
        await fetch(url, { method: 'POST', body: '' });
        return true;
      } catch {
        return false;
      }
    },
    10_000,
    'README agent listening',
    50,
  );
  return url;
}

test('the README agent accepts a genuine delivery whose text is not ASCII, however the body is split', async (t) => {
  const url = await startReadmeAgent(t);
  const h = await startInbox(t, host(), { config: pushTo(url, { maxRejections: 1 }) });
  // ~300 KB of 2-, 3- and 4-byte characters: the agent reads it in many chunks, some of which
  // end inside a character
  const text = 'é€😀'.repeat(35_000);
  h.inbox.routes.inbound(inbound({ text, bufferId: 'b-utf8' }));
  await until(() => ['delivered', 'dead'].includes(rows(h)[0]?.state ?? ''), 20_000, 'a verdict');
  t.is(rows(h)[0]?.state, 'delivered');
  t.is(h.sink.withCode('CORE_ERR_DELIVERY_REJECTED').length, 0);
  // its reply came back: the README agent echoes the text
  await until(() => h.actions.length === 1);
  t.is((h.actions[0] as { content?: string }).content, `You said: ${text}`);
});

test('the README agent refuses a captured delivery sent again ten minutes later', async (t) => {
  const url = await startReadmeAgent(t);
  const body = JSON.stringify({
    id: 'dlv_captured',
    type: 'message',
    session_key: 'agent:main:telegram:dm:C1',
    attempt: 1,
    event: { text: 'transfer 100', source: { platform: 'telegram', chat_id: 'C1' } },
  });
  const post = (timestamp: string) =>
    fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-relay-timestamp': timestamp,
        'x-relay-signature': signDelivery(TOKEN, timestamp, body),
      },
      body,
    });
  const now = Math.floor(Date.now() / 1000);
  t.is((await post(String(now))).status, 200, 'a fresh genuine delivery is accepted');
  t.is((await post(String(now - 600))).status, 401, 'the same request ten minutes on is refused');
  t.is((await post(String(now + 600))).status, 401, 'one dated ten minutes ahead too');
  t.is((await post('not-a-number')).status, 401);
});
