/**
 * The doctor's agent probe across a freeze (SIGSTOP, a paused VM; here a blocked main thread,
 * which libuv resumes the same way: expired timers before the input that came meanwhile, while
 * other threads run on).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { checkAgent } from '../../../sidecar/cli/doctor-probes.js';
import { freezeIdle } from '../../helpers/block-thread.js';
import { testConfig } from '../../helpers/test-config.js';

test.serial('an agent that answers the probe during a freeze is reachable, not "no answer"', async (t) => {
  // the agent, on another thread, answers 100 ms after each request
  const agent = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const server = require('node:http').createServer((req, res) => {
       req.resume();
       setTimeout(() => res.writeHead(405).end(), 100);
     });
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
    { eval: true },
  );
  t.teardown(() => agent.terminate());
  const [port] = (await once(agent, 'message')) as [number];
  const url = `http://127.0.0.1:${port}/relay`;
  const result = checkAgent(testConfig({ agent: { mode: 'push', url } }), 300);
  await freezeIdle(PAUSE_DETECT_MS + 500);
  // was: warn, "no answer within 300 ms" (the limit fired at the resume, before the answer was read)
  t.like(await result, { name: 'agent', status: 'ok' });
});
