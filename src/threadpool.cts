/**
 * Sizes libuv's thread pool before anything uses it.
 *
 * sharp runs every pipeline on this pool, and so do file I/O, dns.lookup and async
 * hashing. With the default of 4 threads, cache writes (fsync of a multi-megabyte source)
 * and DNS lookups wait behind images, and images wait behind them. Default: 2 threads per
 * core for images plus 4 for I/O; an explicit UV_THREADPOOL_SIZE is respected. This is the
 * one place outside config/ that touches process.env, because libuv reads it there.
 *
 * CommonJS on purpose: libuv creates the pool, once, on the first task it is given, and
 * Node's ESM loader reads module files with asynchronous fs calls, so by the time the first
 * line of an ES module entry runs the pool already exists with 4 threads. The `pixproxy`
 * command's entry (cli/bin.cts) is CommonJS, is read synchronously, and requires this file
 * before it imports anything else. main.ts imports it too, for `node dist/main.js`, where it
 * comes too late unless UV_THREADPOOL_SIZE is set in the environment (`pixproxy serve` does).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module (see above)
import os = require('node:os');

if (process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = String(Math.min(128, 2 * os.availableParallelism() + 4));
}
