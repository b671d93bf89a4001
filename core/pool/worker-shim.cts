/**
 * What piscina loads in every pool worker. piscina `require()`s its `filename`, and on node 20.19
 * and later `require()` of an ES module (the worker entry) loads and links the whole module graph
 * synchronously: a worker terminated in the middle of that — the pool closing while a spare or
 * replacement worker boots — aborted the whole process (exit 134, V8's "Module::IsGraphAsync
 * must be used on an instantiated module"; test/core/pool/worker-boot: 4 of 4 runs of 256
 * terminations in the first 400 ms of a worker). This CommonJS file loads the entry with `import()` instead, which a
 * termination ends like any other work.
 */
type Handler = (task: unknown) => unknown;

/**
 * piscina awaits the `default` of a module marked `__esModule` (as this export compiles) when it
 * is not a function itself: the handler it caches is then the entry's own, called directly with
 * every task, with nothing in between.
 */
export default import('./worker-entry.js').then((m) => m.default as Handler);
