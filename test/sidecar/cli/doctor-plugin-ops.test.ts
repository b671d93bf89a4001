/**
 * The `doctor` command's plugin ops check: an op an enabled plugin defines that no descriptor of the
 * connector advertises is a warning naming the op and its plugin (the agent would get 422
 * unsupported_op for it while every other check passed); advertised, it is ✓. Real dev connector, real
 * plugin module (the echo fixture, which defines `echo_ping`).
 */
import test from 'ava';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { DevConnector, defaultDescriptor } from '../../../sidecar/dev-connector/index.js';
import { fixture } from '../../core/plugin-host/fixture-host.js';
import { devConnector, doctor, doctorIo, manifest, SECRET } from './doctor-harness.js';

const ECHO = { name: 'echo', module: fixture('echo') };

test('a plugin op no descriptor advertises is a warning naming it; advertised, it passes', async (t) => {
  const plain = await devConnector(t);
  const io = doctorIo(t, { GATEWAY_RELAY_URL: plain.url });
  manifest(io.cwd, [{ name: 'scope-reattacher' }, ECHO]);
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.OK, io.out);
  // was: every check ✓, then the agent's echo_ping actions answered 422 unsupported_op
  t.is(r.mark('plugin ops'), '!', io.out);
  t.regex(
    r.found.get('plugin ops')!.line,
    /no descriptor advertises echo_ping \(echo\).*422 unsupported_op.*Fix: /,
  );

  const advertising = await DevConnector.start({
    secrets: [SECRET],
    descriptorFor: (hello) =>
      defaultDescriptor(hello.platform, {
        supported_ops: [...(defaultDescriptor(hello.platform).supported_ops as string[]), 'echo_ping'],
      }),
  });
  t.teardown(() => advertising.close());
  const io2 = doctorIo(t, { GATEWAY_RELAY_URL: advertising.url });
  manifest(io2.cwd, [{ name: 'scope-reattacher' }, ECHO]);
  const r2 = await doctor(t, io2);
  t.is(r2.mark('plugin ops'), '✓', io2.out);
  t.regex(io2.out, /doctor: all \d+ checks passed/);
});
