import test from 'ava';
import { renderCommand, renderOptions } from '../../../plugins/discord-interaction/render-options.js';

test('no options renders the bare command', (t) => {
  t.is(renderCommand('new', undefined), '/new');
  t.is(renderCommand('new', []), '/new');
});

test('a value option contributes its trimmed value', (t) => {
  t.is(renderCommand('model', [{ name: 'name', type: 3, value: '  gpt-x ' }]), '/model gpt-x');
});

test('sub-command and group contribute their names then their options, in order', (t) => {
  const options = [
    {
      name: 'admin',
      type: 2,
      options: [{ name: 'ban', type: 1, options: [{ name: 'user', type: 6, value: '42' }] }],
    },
  ];
  t.is(renderCommand('mod', options), '/mod admin ban 42');
  t.is(
    renderCommand('skill', [
      { name: 'run', type: 1, options: [{ name: 'target', type: 3, value: 'deploy' }] },
    ]),
    '/skill run deploy',
  );
});

test('numbers and booleans render with String(); null and blank values are skipped', (t) => {
  const options = [
    { name: 'n', type: 4, value: 7 },
    { name: 'b', type: 5, value: false },
    { name: 'x', type: 3, value: null },
    { name: 'y', type: 3, value: '   ' },
    { name: 'z', type: 3 },
    { name: 'f', type: 10, value: 1.5 },
  ];
  t.deepEqual(renderOptions(options), ['7', 'false', '1.5']);
});

test('garbage entries and a non-array never throw', (t) => {
  t.deepEqual(renderOptions('nope'), []);
  t.deepEqual(renderOptions([null, 3, 'x', { type: 1 }, { type: 1, name: 'sub', options: 'bad' }]), ['sub']);
});

test('a pathologically deep nesting is bounded', (t) => {
  let options: unknown[] = [{ name: 'leaf', type: 3, value: 'v' }];
  for (let i = 0; i < 100; i += 1) options = [{ name: `s${i}`, type: 1, options }];
  const words = renderOptions(options);
  t.true(words.length < 20);
  t.false(words.includes('v'));
});
