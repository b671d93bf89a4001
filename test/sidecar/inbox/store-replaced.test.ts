/**
 * A store file replaced or deleted under a running inbox, before the upkeep (every 5 s) looks:
 * the commit itself checks that the file at the path is still the one it writes, so nothing is
 * acked into a file the next start never opens. Real SQLite file, real plugin pool.
 */
import { copyFileSync, renameSync, rmSync } from 'node:fs';
import test from 'ava';
import { inbound, sharedHost, startInbox, until } from './inbox-harness.js';

const host = sharedHost();
const HELD = 'the store refuses commits; frames held unacked and retried';

for (const [how, change] of [
  [
    'replaced (a backup put back with mv)',
    (file: string) => {
      copyFileSync(file, `${file}.backup`);
      renameSync(`${file}.backup`, file);
    },
  ],
  ['deleted', (file: string) => rmSync(file)],
] as const) {
  test(`a store file ${how} between two upkeeps: the next buffered frame is held, not acked`, async (t) => {
    // the upkeep's own check is an hour away: only the commit can notice
    const h = await startInbox(t, host(), { maintenanceIntervalMs: 3_600_000 });
    h.inbox.routes.inbound(inbound({ text: 'before', bufferId: 'b-before' }));
    await until(() => h.acks.length === 1, 10_000, 'the first ack');
    change(h.inbox.store.db.name);
    h.inbox.routes.inbound(inbound({ text: 'after', bufferId: 'b-after' }));
    await until(
      () => h.sink.withMsg(HELD).length > 0 || h.acks.length > 1,
      10_000,
      'the frame held or acked',
    );
    t.deepEqual(
      h.acks.map((a) => a.bufferId),
      ['b-before'],
      'nothing acked into the old file',
    );
    t.is(h.sink.withCode('CORE_ERR_STORE_REPLACED').length, 1, 'reported once');
    t.true(h.inbox.store.replaced);
  });
}
