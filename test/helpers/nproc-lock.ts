/**
 * The lock that lets one thread-limited child run at a time across test processes
 * (thread-limit.ts): RLIMIT_NPROC counts the threads of the child's user in every process.
 *
 * It is a Unix socket listening in Linux's abstract namespace (the tests that take it run on
 * Linux only: setpriv, prlimit, /proc): the kernel frees it as its holder's process ends, however
 * it ends, and nothing is left on disk. It was a directory with the holder's pid inside, taken
 * over once that pid had ended: a run killed between making the directory and writing its pid
 * (or while writing it) left a lock nobody took over, and a killed run's pid reused since by
 * another process kept its lock held; every later limited test then waited its whole wait and
 * failed, until someone removed the directory by hand (test/helpers/nproc-lock.test.ts). Two
 * tests taking over one dead lock at once could also both hold it.
 */
import { createServer, type Server } from 'node:net';

/** Poll interval while another process holds the lock, ms. */
const RETRY_MS = 50;

/** Listen on abstract socket `name`: the server, or undefined if another process listens there. */
function listen(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    });
    server.listen(`\0${name}`, () => {
      // the lock must not keep a test process up
      server.unref();
      resolve(server);
    });
  });
}

/**
 * Take lock `name` (any string; a path names it well), waiting up to `waitMs` for its holder;
 * resolves with its release. Throws once `waitMs` has passed.
 */
export async function holdLock(name: string, waitMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const server = await listen(name);
    if (server) return () => new Promise<void>((resolve) => server.close(() => resolve()));
    if (Date.now() > deadline) throw new Error(`another thread-limited test held the lock ${name} too long`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
