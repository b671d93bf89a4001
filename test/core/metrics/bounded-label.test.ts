import test from 'ava';
import { BoundedLabel, OTHER_LABEL } from '../../../core/metrics/metrics.js';

test('a bounded label keeps its first values (cut to 64 characters) and calls every later one other', (t) => {
  const label = new BoundedLabel(2);
  t.is(label.of('a'), 'a');
  t.is(label.of('b'.repeat(100)), 'b'.repeat(64));
  t.is(label.of('c'), OTHER_LABEL);
  // values already kept stay themselves
  t.is(label.of('a'), 'a');
  t.is(label.of('b'.repeat(70)), 'b'.repeat(64));
});
