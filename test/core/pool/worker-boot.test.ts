/**
 * A pool worker terminated while it is still loading must end alone, never the process. piscina
 * require()s its filename; node 20.19+ loads an ES module given to require() synchronously, and a
 * termination in the middle of that aborted the whole process (exit 134, V8's "IsGraphAsync must
 * be used on an instantiated module"): this test failed 4 of 4 runs with the ESM entry itself. The
 * pool now hands piscina a CommonJS shim that import()s the entry. The race is timing-bound, so a
 * run that passes on the ESM entry is possible; one that fails on the shim is a regression.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { WORKER_ENTRY } from '../../../core/pool/plugin-pool.js';
import { tempDir } from '../../helpers/temp-dir.js';

// 256 workers, 8 at a time, each loading the entry as piscina does and terminated 0–400 ms in
const SCRIPT = `
import { Worker } from 'node:worker_threads';
const entry = process.argv[2];
const src = \`const { parentPort } = require('node:worker_threads');
const { createRequire } = require('node:module');
parentPort.postMessage('loading');
try { createRequire(\${JSON.stringify(entry)})(\${JSON.stringify(entry)}); } catch {}\`;
let terminated = 0;
for (let batch = 0; batch < 32; batch++) {
  await Promise.all(Array.from({ length: 8 }, async (_, j) => {
    const w = new Worker(src, { eval: true });
    w.on('error', () => {});
    await new Promise((resolve) => w.once('message', resolve));
    await new Promise((r) => setTimeout(r, ((batch * 8 + j) * 3) % 400));
    await w.terminate();
    terminated++;
  }));
}
console.log('terminated', terminated);
`;

test('workers terminated while loading the pool entry end alone, never the process', async (t) => {
  t.timeout(90_000);
  const script = join(tempDir(t), 'terminate-while-loading.mjs');
  writeFileSync(script, SCRIPT);
  const child = spawn(process.execPath, [script, WORKER_ENTRY], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.is(code, 0, err.slice(0, 500));
  t.is(out.trim(), 'terminated 256');
});
