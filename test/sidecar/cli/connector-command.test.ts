import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { upgradeToken } from '../../../core/transport/auth-token.js';
import { type ConnectorOptions, runConnector } from '../../../sidecar/cli/connector-command.js';
import {
  descriptorFromFile,
  formatFrameLine,
  MAX_FRAME_CHARS,
  parseInjectLine,
} from '../../../sidecar/cli/connector-format.js';
import { LineCounter } from '../../../sidecar/cli/connector-inject.js';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { openPeer } from '../dev-connector/sidecar-peer.js';
import { testIo } from './cli-harness.js';

const CLI = join(repoRoot(), 'dist', 'sidecar', 'cli', 'main.js');
const SECRET = 'connector-cli-secret-9911';
const INBOUND = { type: 'inbound', event: { text: 'hi', source: { platform: 'relay', chat_id: 'c1' } } };

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

/** Run the connector in-process with a private stdin; `stop()` aborts it and resolves the exit code. */
async function inProcess(t: ExecutionContext, opts: ConnectorOptions) {
  const io = testIo(t);
  const stdin = new PassThrough();
  const ac = new AbortController();
  const done = runConnector({ port: 0, ...opts }, io, { stdin, signal: ac.signal });
  t.teardown(() => ac.abort());
  let exited: { code: number } | undefined;
  void done.then((code) => {
    exited = { code };
  });
  // Either it stops at once (a usage error) or it prints the banner with its port.
  const started = await waitFor<{ code: number } | { port: number }>(() => {
    const port = /\(port (\d+)\)/.exec(io.out)?.[1];
    return exited ?? (port === undefined ? undefined : { port: Number(port) });
  });
  const stop = () => {
    ac.abort();
    return done;
  };
  return { io, stdin, done, started, stop };
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('in-process: --host other than loopback, a bad port and an unreadable descriptor file exit 2', async (t) => {
  for (const opts of [{ host: '0.0.0.0' }, { port: '70000' }, { descriptorFile: 'missing.json' }]) {
    const { started, io } = await inProcess(t, opts);
    t.deepEqual(started, { code: ExitCode.CONFIG }, JSON.stringify(opts));
    t.regex(io.err, /^connector: /);
  }
});

test('in-process: --descriptor-file per platform shapes the descriptor; side routes enrol a gateway whose secret then dials', async (t) => {
  const probe = testIo(t);
  const file = join(probe.cwd, 'descriptor.json');
  writeFileSync(
    file,
    JSON.stringify({ platforms: { discord: { max_message_length: 123 }, '*': { label: 'Any' } } }),
  );
  const run = await inProcess(t, { descriptorFile: file, secret: [SECRET] });
  const url = `http://127.0.0.1:${(run.started as { port: number }).port}`;

  const res = await fetch(`${url}/relay/enroll`, {
    method: 'POST',
    headers: { authorization: 'Bearer identity-x', 'content-type': 'application/json' },
    body: JSON.stringify({ enrollmentToken: 'enrol-1', gatewayId: 'gw-new' }),
  });
  t.is(res.status, 200);
  const { secret } = (await res.json()) as { secret: string };
  await waitFor(() => (/POST \/relay\/enroll → HTTP 200/.test(run.io.out) ? true : undefined));
  t.false(run.io.out.includes(secret));

  const peer = await openPeer(t, url, { token: upgradeToken('gw-new', secret, Date.now(), 300) });
  peer.send({ type: 'hello', platform: 'discord', botId: 'b' });
  peer.send({ type: 'hello', platform: 'sms', botId: 'b' });
  const discord = await peer.next((f) => f.type === 'descriptor');
  t.is((discord.descriptor as { max_message_length: number }).max_message_length, 123);
  const sms = await peer.next((f) => f.type === 'descriptor' && f !== discord);
  t.like(sms.descriptor as object, { platform: 'sms', label: 'Any' });
  t.is(await run.stop(), ExitCode.OK);
});

test('in-process: a descriptor file that breaks the contract is served, with a warning', async (t) => {
  const probe = testIo(t);
  const file = join(probe.cwd, 'broken.json');
  writeFileSync(file, JSON.stringify({ supports_edit: 'yes' }));
  const run = await inProcess(t, { descriptorFile: file });
  t.true('port' in run.started);
  t.regex(run.io.err, /warning: the descriptor fails the contract \(supports_edit: /);
  t.is(await run.stop(), ExitCode.OK);
});

test('in-process: injecting with no sidecar connected explains itself, buffered frames wait for the handshake', async (t) => {
  const run = await inProcess(t, {});
  const url = `http://127.0.0.1:${(run.started as { port: number }).port}`;
  run.stdin.write(`${JSON.stringify(INBOUND)}\n# a comment\n\n[1,2]\n{"type":"nope"}\n`);
  run.stdin.write(`!buffered ${JSON.stringify(INBOUND)}\n`);
  await waitFor(() => (/stdin line 6: buffered as \S+/.test(run.io.err) ? true : undefined));
  t.regex(run.io.err, /stdin line 1: no sidecar connected/);
  t.regex(run.io.err, /stdin line 4: not a JSON object/);
  t.regex(run.io.err, /stdin line 5: warning: unknown type "nope"/);
  const peer = await openPeer(t, url);
  peer.send({ type: 'hello', platform: 'relay', botId: '' });
  const replayed = await peer.next((f) => f.type === 'inbound');
  t.is(typeof replayed.bufferId, 'string');
  t.is(await run.stop(), ExitCode.OK);
});

test('formatFrameLine masks credentials, scrubs forward bodies and cuts long frames', (t) => {
  const body = Buffer.from(JSON.stringify({ type: 2, token: 'interaction-tok-77' })).toString('base64');
  const line = formatFrameLine({
    dir: 'out',
    conn: 3,
    at: Date.UTC(2026, 0, 1, 12, 0, 1, 234),
    frame: {
      type: 'passthrough_forward',
      forward: { platform: 'discord', headers: [['Authorization', 'Bot abc']], bodyB64: body, token: 't-1' },
    },
  });
  t.regex(line, /^12:00:01\.234 → #3 passthrough_forward \{/);
  for (const s of ['interaction-tok-77', 'Bot abc', 't-1']) t.false(line.includes(s), s);
  t.regex(line, /\[redacted\]/);

  const long = formatFrameLine({
    dir: 'in',
    conn: 1,
    at: 0,
    frame: { type: 'outbound', pad: 'x'.repeat(1000) },
  });
  t.regex(long, /…\(\+\d+ chars\)$/);
  t.true(long.length < MAX_FRAME_CHARS + 80);
  const bad = formatFrameLine({
    dir: 'in',
    conn: 1,
    at: 0,
    frame: { type: 'hello' },
    invalid: 'platform: required',
  });
  t.regex(bad, /← #1 hello .* ✗ invalid: platform: required$/);
});

test('parseInjectLine: plain, !buffered prefix, buffered key, comments, errors', (t) => {
  t.deepEqual(parseInjectLine('{"type":"x"}'), { kind: 'frame', frame: { type: 'x' }, buffered: false });
  t.deepEqual(parseInjectLine('!buffered {"type":"x"}'), {
    kind: 'frame',
    frame: { type: 'x' },
    buffered: true,
  });
  t.deepEqual(parseInjectLine('{"type":"x","buffered":true}'), {
    kind: 'frame',
    frame: { type: 'x' },
    buffered: true,
  });
  t.deepEqual(parseInjectLine('  # note'), { kind: 'skip' });
  t.deepEqual(parseInjectLine('   '), { kind: 'skip' });
  for (const bad of ['{', '"str"', 'null', '[]', '{"buffered":"yes"}'])
    t.is(parseInjectLine(bad).kind, 'error', bad);
});

test('LineCounter numbers every line, joins chunks and drops an overlong line once', (t) => {
  const seen: string[] = [];
  const long: number[] = [];
  const lc = new LineCounter(5);
  const push = (s: string) =>
    lc.push(
      s,
      (l, n) => seen.push(`${n}:${l}`),
      (n) => long.push(n),
    );
  push('ab');
  push('c\n\nxy');
  push('zzzzzz-still-line-3\nok\n');
  t.deepEqual(seen, ['1:abc', '2:', '4:ok']);
  t.deepEqual(long, [3]);
});

test('descriptorFromFile: flat fields apply to every hello, platform always follows the hello', (t) => {
  const fn = descriptorFromFile({ supports_edit: false, platform: 'ignored' });
  t.like(fn({ platform: 'telegram' }), { platform: 'telegram', supports_edit: false, contract_version: 1 });
  t.throws(() => descriptorFromFile([]));
  t.throws(() => descriptorFromFile({ platforms: 3 }));
});
