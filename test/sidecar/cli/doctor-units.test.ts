/**
 * `doctor` warns about a duration that looks written in the wrong unit — seconds in a ms key far
 * below its default, ms in an s key far above — which the start accepts (valid numbers) and which
 * then show as something else: every push attempt timing out reads as an agent that is down.
 */
import test from 'ava';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { tempConfigFile } from '../../helpers/temp-dir.js';
import { devConnector, doctor, doctorIo } from './doctor-harness.js';

test('seconds in a ms key and ms in an s key are warnings naming the value meant; defaults and small tunings are not', async (t) => {
  const dc = await devConnector(t);
  const file = tempConfigFile(
    t,
    'agent:\n  timeoutMs: 30\n  retryBaseMs: 10\nrelay:\n  tokenTtlS: 300000\ninbox:\n  groupCommitMs: 1\n',
  );
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, SIDECAR_CONFIG: file });
  const r = await doctor(t, io);
  // was: "doctor: all 12 checks passed", then every push attempt timed out after 30 ms
  t.is(r.code, ExitCode.OK, io.out);
  t.is(r.mark('units'), '!', io.out);
  const line = r.found.get('units')!.line;
  t.regex(line, /agent\.timeoutMs is 30 ms \(default 30000\): if seconds were meant, write 30000/);
  t.regex(line, /relay\.tokenTtlS is 300000 s \(default 300\): if ms were meant, write 300/);
  // a default under a second (retryBaseMs 250, groupCommitMs 5) may well be tuned lower
  t.false(line.includes('retryBaseMs'));
  t.false(line.includes('groupCommitMs'));

  const io2 = doctorIo(t, { GATEWAY_RELAY_URL: dc.url });
  t.false((await doctor(t, io2)).found.has('units'), 'no line when nothing looks wrong');
});
