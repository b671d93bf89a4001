import test from 'ava';
import { sidecarV8Flags } from '../../../sidecar/cli/v8-flags.js';

const DEFAULTS = ['--no-allocation-site-pretenuring', '--heap-growing-percent=50'];

test('pretenuring off and a 1.5x old-generation growth by default', (t) => {
  t.deepEqual(sidecarV8Flags([]), DEFAULTS);
  t.deepEqual(sidecarV8Flags(['--max-old-space-size=256', '--enable-source-maps']), DEFAULTS);
});

test("an operator's own setting on node's command line wins, flag by flag", (t) => {
  t.deepEqual(sidecarV8Flags(['--allocation-site-pretenuring']), ['--heap-growing-percent=50']);
  t.deepEqual(sidecarV8Flags(['--no-allocation-site-pretenuring']), ['--heap-growing-percent=50']);
  t.deepEqual(sidecarV8Flags(['--no_allocation_site_pretenuring']), ['--heap-growing-percent=50']);
  t.deepEqual(sidecarV8Flags(['--heap-growing-percent=100']), ['--no-allocation-site-pretenuring']);
  t.deepEqual(sidecarV8Flags(['--heap-growing-percent=100', '--allocation-site-pretenuring']), []);
});
