/**
 * The `doctor` command's options and the built CLI: --config and --plugins as `run -c … -p …` uses them,
 * --env-path for the credentials, --timeout-ms validation, and doctor run as a child process (exit 0, or 4
 * with a wrong secret).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { runDoctor } from '../../../sidecar/cli/doctor-command.js';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { runBuiltCli } from './cli-child.js';
import { devConnector, doctor, doctorIo, SECRET } from './doctor-harness.js';

test('--config and --plugins check the files `run -c … -p …` would use, relative to the working directory', async (t) => {
  const io = doctorIo(t, {});
  writeFileSync(join(io.cwd, 'sidecar.yaml'), 'agent:\n  concurency: 8\n');
  // was: "error: unknown option '--config'", so a deployment started with `run -c` could not be checked
  const r = await doctor(t, io, { config: 'sidecar.yaml' });
  t.is(r.code, ExitCode.CONFIG);
  t.regex(r.found.get('config')!.line, /^✗ config — CORE_ERR_CONFIG_INVALID: .*concurency/);

  const io2 = doctorIo(t, {});
  writeFileSync(join(io2.cwd, 'broken.json'), '{ "apiVersion": 1, "plugins": [');
  const r2 = await doctor(t, io2, { plugins: 'broken.json' });
  t.regex(r2.found.get('manifest')!.line, /^✗ manifest — CORE_ERR_PLUGIN_MANIFEST_INVALID: .*broken\.json/);
  // the options win over SIDECAR_CONFIG / SIDECAR_PLUGINS, as they do for run
  const r3 = await doctor(t, doctorIo(t, {}), { plugins: join(io2.cwd, 'broken.json') });
  t.is(r3.mark('manifest'), '✗');
});

test('--env-path supplies the credentials; --timeout-ms is validated', async (t) => {
  const dc = await devConnector(t);
  const io = doctorIo(t, {
    GATEWAY_RELAY_URL: dc.url,
    GATEWAY_RELAY_ID: undefined,
    GATEWAY_RELAY_SECRET: undefined,
  });
  writeFileSync(join(io.cwd, '.env.relay'), `GATEWAY_RELAY_ID=gw-file\nGATEWAY_RELAY_SECRET=${SECRET}\n`);
  const r = await doctor(t, io, { envPath: '.env.relay' });
  t.is(r.code, ExitCode.OK, io.out);
  t.like(dc.upgrades[0], { authorized: true, gatewayId: 'gw-file' });
  const bad = doctorIo(t, {});
  t.is(await runDoctor({ timeoutMs: 'soon' }, bad), ExitCode.CONFIG);
  t.regex(bad.err, /--timeout-ms/);
});

test('the built CLI runs doctor as a child process: exit 0 against a good connector, 4 with a wrong secret', async (t) => {
  const dc = await devConnector(t);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  const good = await runChild(['doctor', '--timeout-ms', '5000'], io);
  t.is(good.code, ExitCode.OK, good.out + good.err);
  t.regex(good.out, /^✓ connector — handshake with ws:\/\/127\.0\.0\.1:\d+\/relay as gateway gw-doc/m);
  const bad = await runChild(['doctor'], {
    ...io,
    env: { ...io.env, GATEWAY_RELAY_SECRET: 'wrong-secret-000' },
  });
  t.is(bad.code, ExitCode.AUTH);
  t.regex(bad.out, /^✗ connector — .*Fix: /m);
  t.false(good.out.includes(SECRET) || bad.out.includes('wrong-secret-000'));
});

/** Run the built CLI with exactly `io.env` (plus PATH) in `io.cwd`. */
function runChild(args: string[], io: { env: NodeJS.ProcessEnv; cwd: string }) {
  return runBuiltCli(args, io.cwd, { PATH: process.env.PATH ?? '', ...io.env });
}
