import test from 'ava';
import { helloFrames } from '../../../core/transport/hello.js';

const manifest = [{ name: 'ask', description: 'Ask the agent', options: [{ type: 3, name: 'q' }] }];

test('one hello per identity, in order; the manifest only on the discord hello', (t) => {
  const { frames, manifestProblem } = helloFrames(
    [
      { platform: 'telegram', botId: 't1' },
      { platform: 'discord', botId: 'd1' },
      { platform: 'slack', botId: '' },
    ],
    manifest,
  );
  t.is(manifestProblem, undefined);
  t.deepEqual(frames, [
    { type: 'hello', platform: 'telegram', botId: 't1' },
    { type: 'hello', platform: 'discord', botId: 'd1', command_manifest: manifest },
    { type: 'hello', platform: 'slack', botId: '' },
  ]);
});

test('no manifest configured ⇒ no command_manifest key', (t) => {
  const { frames } = helloFrames([{ platform: 'discord', botId: 'd' }]);
  t.false('command_manifest' in (frames[0] ?? {}));
});

test('an invalid manifest is left off and reported', (t) => {
  const { frames, manifestProblem } = helloFrames(
    [{ platform: 'discord', botId: 'd' }],
    [{ description: 1 }],
  );
  t.deepEqual(frames, [{ type: 'hello', platform: 'discord', botId: 'd' }]);
  t.regex(manifestProblem ?? '', /command_manifest\.0\.name/);
});
