/**
 * The checkpointer's thread: its own connection to the store, a PASSIVE WAL checkpoint every
 * `intervalMs` (copying committed pages into the database file and syncing it, off the main
 * thread), and a last checkpoint when told to stop. It never blocks a reader or a writer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './database.js';

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = openDatabase(file);
let lastError = '';

function checkpoint(): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
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
