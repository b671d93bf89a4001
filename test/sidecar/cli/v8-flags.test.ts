import test from 'ava';
import { sidecarV8Flags } from '../../../sidecar/cli/v8-flags.js';

test('allocation-site pretenuring is turned off by default', (t) => {
  t.deepEqual(sidecarV8Flags([]), ['--no-allocation-site-pretenuring']);
  t.deepEqual(sidecarV8Flags(['--max-old-space-size=256', '--enable-source-maps']), [
    '--no-allocation-site-pretenuring',
  ]);
});

test("an operator's own pretenuring flag on node's command line wins", (t) => {
  t.deepEqual(sidecarV8Flags(['--allocation-site-pretenuring']), []);
  t.deepEqual(sidecarV8Flags(['--no-allocation-site-pretenuring']), []);
});
