/**
 * The checkpointer's thread: its own connection to the store and, every `intervalMs`, a PASSIVE
 * WAL checkpoint (copying committed pages into the database file and syncing it, off the main
 * thread; it never blocks a reader or a writer). Under steady writes a passive checkpoint never
 * quite catches up, so the WAL would never start over and would grow to the connections'
 * fallback threshold, where a main-thread commit checkpoints 40 MiB itself. Once the WAL holds
 * `restartFrames`, the thread therefore follows with a RESTART checkpoint: the passive one just
 * copied nearly everything, so it holds writers off only for the last few pages, and it gives up
 * after a short busy wait rather than stall them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './database.js';

const { file, intervalMs, restartFrames } = workerData as {
  file: string;
  intervalMs: number;
  restartFrames: number;
};
const db = openDatabase(file);
// a RESTART waits for the writer and readers at most this long, then reports busy and is retried
db.pragma('busy_timeout = 20');
let lastError = '';

function checkpoint(): void {
  try {
    const [passive] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    if ((passive?.log ?? 0) >= restartFrames) db.pragma('wal_checkpoint(RESTART)');
    lastError = '';
  } catch (err) {
    // reported once per distinct failure; the connections' own autocheckpoint is the fallback
    const message = err instanceof Error ? err.message : String(err);
    if (message !== lastError) parentPort?.postMessage({ type: 'error', message });
    lastError = message;
  }
}

const timer = setInterval(checkpoint, intervalMs);
parentPort?.on('message', (msg: { type?: string }) => {
  if (msg.type !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort?.close();
});
