/**
 * The `connector` command as a real child process: it prints both directions, injects from stdin (plain,
 * buffered, bad JSON) and never prints the token, refuses a dial without a token with 4401, and honours
 * --no-auto-result and --exit-on-eof.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import test, { type ExecutionContext } from 'ava';
import { upgradeToken } from '../../../core/transport/auth-token.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { openPeer } from '../dev-connector/sidecar-peer.js';
import { CLI } from './cli-child.js';
import { INBOUND, SECRET } from './connector-harness.js';

/** The built CLI as a child process, with its output split into lines as it arrives. */
interface Child {
  proc: ChildProcessWithoutNullStreams;
  out: string[];
  err: string[];
  /** The first stdout (or stderr) line matching `re`, already printed or future. */
  line(re: RegExp, stream?: 'out' | 'err', timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

function spawnCli(t: ExecutionContext, args: string[]): Child {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot(), env: { ...process.env } });
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const lines = { out: [] as string[], err: [] as string[] };
  const waiters = new Set<() => void>();
  const collect = (into: string[]) => {
    let partial = '';
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      into.push(...parts);
      for (const w of waiters) w();
    };
  };
  proc.stdout.on('data', collect(lines.out));
  proc.stderr.on('data', collect(lines.err));
  const line = (re: RegExp, stream: 'out' | 'err' = 'out', timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines[stream].find((l) => re.test(l));
        if (hit === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`no ${stream} line matching ${re} within ${timeoutMs} ms:\n${lines[stream].join('\n')}`),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { proc, out: lines.out, err: lines.err, line, exited };
}

/** Start the child connector and return its base URL, parsed from the banner. */
async function startChild(t: ExecutionContext, args: string[]): Promise<Child & { url: string }> {
  const child = spawnCli(t, ['connector', '--port', '0', ...args]);
  const banner = await child.line(/listening on .*\(port \d+\)/);
  const port = Number(/\(port (\d+)\)/.exec(banner)?.[1]);
  t.true(port > 0);
  return { ...child, url: `http://127.0.0.1:${port}` };
}

test('child process: prints both directions, injects from stdin (plain, buffered, bad JSON), never the token, exits 0 on SIGTERM', async (t) => {
  const c = await startChild(t, ['--secret', SECRET]);
  const token = upgradeToken('gw-cli', SECRET, Date.now(), 300);
  const peer = await openPeer(t, c.url, { token });
  peer.send({ type: 'hello', platform: 'relay', botId: 'b1' });
  await peer.next((f) => f.type === 'descriptor');
  await c.line(/upgrade \/relay accepted \(gateway gw-cli\)/);
  t.regex(await c.line(/← #1 hello /), /"platform":"relay"/);
  await c.line(/→ #1 descriptor \{"type":"descriptor"/);

  c.proc.stdin.write('{not json}\n');
  await c.line(/stdin line 1: not valid JSON/, 'err');
  c.proc.stdin.write(`${JSON.stringify(INBOUND)}\n`);
  const got = await peer.next((f) => f.type === 'inbound');
  t.is((got.event as { text: string }).text, 'hi');
  await c.line(/→ #1 inbound /);

  c.proc.stdin.write(
    `!buffered ${JSON.stringify({ ...INBOUND, event: { ...INBOUND.event, text: 'kept' } })}\n`,
  );
  const buffered = await peer.next((f) => typeof f.bufferId === 'string');
  t.is((buffered.event as { text: string }).text, 'kept');
  c.proc.stdin.write(`${JSON.stringify({ ...INBOUND, buffered: true })}\n`);
  const second = await peer.next((f) => typeof f.bufferId === 'string' && f.bufferId !== buffered.bufferId);
  t.false('buffered' in second);
  peer.send({ type: 'inbound_ack', bufferId: buffered.bufferId as string });
  await c.line(/← #1 inbound_ack /);

  c.proc.kill('SIGTERM');
  t.is(await c.exited, 0);
  const printed = [...c.out, ...c.err].join('\n');
  t.false(printed.includes(token));
  t.false(printed.includes(SECRET));
});

test('child process: a dial without a token is refused with 4401 and the refusal is printed', async (t) => {
  const c = await startChild(t, ['--secret', SECRET]);
  const peer = await openPeer(t, c.url);
  t.is((await peer.closed).code, 4401);
  await c.line(/upgrade \/relay refused: close 4401 missing/);
  c.proc.kill('SIGINT');
  t.is(await c.exited, 0);
});

test('child process: --no-auto-result leaves outbounds unanswered until a result is injected; --exit-on-eof stops on EOF', async (t) => {
  const c = await startChild(t, ['--no-auto-result', '--exit-on-eof']);
  const peer = await openPeer(t, c.url);
  peer.send({ type: 'hello', platform: 'relay', botId: '' });
  await peer.next((f) => f.type === 'descriptor');
  const requestId = 'a'.repeat(32);
  peer.send({ type: 'outbound', requestId, action: { op: 'send', chat_id: 'c1', content: 'x' } });
  await c.line(/← #1 outbound /);
  t.is(
    peer.received.filter((f) => f.type === 'outbound_result').length,
    0,
    'nothing answers the outbound on its own',
  );
  c.proc.stdin.write(
    `${JSON.stringify({ type: 'outbound_result', requestId, result: { success: true } })}\n`,
  );
  const result = await peer.next((f) => f.type === 'outbound_result');
  t.deepEqual(result.result, { success: true });
  c.proc.stdin.end();
  t.is(await c.exited, 0);
});
