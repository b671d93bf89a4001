/**
 * The `doctor` command's configuration checks: an invalid configuration skips the other checks (exit 2), a
 * missing or invalid GATEWAY_RELAY_URL (never printing it), and SIDECAR_LISTEN that is not loopback or is
 * malformed, as `run` refuses them.
 */
import test from 'ava';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { devConnector, doctor, doctorIo } from './doctor-harness.js';

test('an invalid configuration is ✗ config with its code, exit 2, and the other checks are skipped', async (t) => {
  const io = doctorIo(t, { AGENT_MODE: 'sideways' });
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG);
  t.regex(r.found.get('config')!.line, /^✗ config — CORE_ERR_CONFIG_INVALID: .*AGENT_MODE.*Fix: /);
  t.is(r.found.size, 1);
  t.regex(io.out, /need a loadable configuration/);
});

test('a missing GATEWAY_RELAY_URL is ✗ connector url and no dial is tried', async (t) => {
  const io = doctorIo(t, {});
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG);
  t.is(r.mark('connector url'), '✗');
  t.false(r.found.has('connector'));
});

test('an invalid GATEWAY_RELAY_URL is ✗ config naming the variable (as `run` refuses it), never the URL', async (t) => {
  const io = doctorIo(t, { GATEWAY_RELAY_URL: 'ftp://user:pw-in-url@host' });
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG);
  t.regex(r.found.get('config')!.line, /^✗ config — CORE_ERR_CONFIG_INVALID: .*GATEWAY_RELAY_URL/);
  t.false(r.found.has('connector'));
  t.false(io.out.includes('pw-in-url'));
});

test('the API address: a non-loopback SIDECAR_LISTEN is ✗ api address, as `run` refuses it; a malformed one ✗ config', async (t) => {
  const dc = await devConnector(t);
  const good = await doctor(t, doctorIo(t, { GATEWAY_RELAY_URL: dc.url, SIDECAR_LISTEN: '[::1]:7700' }));
  t.regex(good.found.get('api address')!.line, /^✓ api address — \[::1\]:7700 \(loopback\)$/);
  // was: ✓ everywhere (the pull-mode agent line even named the address), then `run` exited 2
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, SIDECAR_LISTEN: '0.0.0.0:7700' });
  const r = await doctor(t, io);
  t.is(r.code, ExitCode.CONFIG, io.out);
  t.regex(
    r.found.get('api address')!.line,
    /^✗ api address — CORE_ERR_API_LISTEN_FAILED: agent api cannot listen on 0\.0\.0\.0:7700: not a loopback address.*Fix: .*SIDECAR_LISTEN/,
  );
  const malformed = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, SIDECAR_LISTEN: '127.0.0.1:99999' });
  const m = await doctor(t, malformed);
  t.is(m.code, ExitCode.CONFIG);
  t.regex(m.found.get('config')!.line, /^✗ config — CORE_ERR_CONFIG_INVALID: .*SIDECAR_LISTEN/);
});
