/**
 * What `checkpoint thread opened the store` tells its owner: the thread is open and out of its
 * gate, between calls. Tests and fixtures act on that line (late-checkpoint-exit marks the
 * thread's slot as inside a call, as a hung disk would hold it): since the stop word was read as
 * the open returns, the line was posted from inside the open, so the owner read it while the
 * thread was still inside its gate, and the thread's leave then undid the mark (the late call at
 * the exit went unreported, store-gate-late failing at random).
 */
import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { Checkpointer } from '../../../core/store/checkpointer.js';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { GATE_OPEN, GATE_WORDS } from '../../../core/store/store-calls.js';
import { storeGate } from '../../../core/store/store-gate.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** Threads started: each one's line is read as the main thread takes its message. */
const STARTS = 12;

test.serial('"opened the store" is said once the thread has left its gate', async (t) => {
  t.timeout(120_000);
  const words = new Int32Array(storeGate());
  const states: number[] = [];
  for (let n = 0; n < STARTS; n++) {
    const file = databasePath(tempDir(t));
    openDatabase(file).close();
    const taken = new Set(words.filter((_, i) => i % GATE_WORDS === 0 && words[i] !== 0));
    const sink = createLogSink();
    const checkpointer = Checkpointer.start(file, sink.logger, new Metrics(), 600_000);
    // the slot's state as the line is written (the message's handler, on this thread): no
    // periodic checkpoint, so nothing but the open can have it inside
    await sink.waitFor((line) => {
      if (line.msg !== 'checkpoint thread opened the store') return false;
      const at = words.findIndex((word, i) => i % GATE_WORDS === 0 && word !== 0 && !taken.has(word));
      states.push(at < 0 ? -1 : Atomics.load(words, at + 1));
      return true;
    }, 60_000);
    t.true(await checkpointer.stop(20_000));
  }
  // was: the thread still inside its gate (GATE_INSIDE) at most of these lines
  t.deepEqual(
    states,
    states.map(() => GATE_OPEN),
  );
});
