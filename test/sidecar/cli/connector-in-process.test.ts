/**
 * The `connector` command run in process: bad --host, port or descriptor file exit 2, --descriptor-file
 * shapes the descriptor per platform, side routes enrol a gateway, a descriptor breaking the contract is
 * served with a warning, and injecting with no sidecar connected explains itself.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { upgradeToken } from '../../../core/transport/auth-token.js';
import { type ConnectorOptions, runConnector } from '../../../sidecar/cli/connector-command.js';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { openPeer } from '../dev-connector/sidecar-peer.js';
import { testIo } from './cli-harness.js';
import { INBOUND, SECRET } from './connector-harness.js';

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

test('in-process: a misspelt descriptor field is served as written, with a warning naming the field meant', async (t) => {
  // was: {"suported_ops": […]} started without a word and answered with the default ops, so the
  // plugin op it meant to advertise was refused 422 unsupported_op
  const probe = testIo(t);
  const file = join(probe.cwd, 'typo.json');
  writeFileSync(file, JSON.stringify({ platforms: { '*': { suported_ops: ['send', 'my_op'], vibe: 1 } } }));
  const run = await inProcess(t, { descriptorFile: file });
  t.true('port' in run.started);
  t.regex(
    run.io.err,
    /warning: --descriptor-file: "suported_ops" is not a descriptor field \(did you mean "supported_ops"\?\)/,
  );
  t.regex(run.io.err, /warning: --descriptor-file: "vibe" is not a descriptor field; the sidecar ignores it/);
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
