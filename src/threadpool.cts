/**
 * Sizes libuv's thread pool before anything uses it (imported first by main.ts).
 *
 * sharp runs every pipeline on this pool, and so do file I/O, dns.lookup and async
 * hashing. With the default of 4 threads, cache writes (fsync of a multi-megabyte source)
 * and DNS lookups wait behind images, and images wait behind them. Default: 2 threads per
 * core for images plus 4 for I/O; an explicit UV_THREADPOOL_SIZE is respected. This is the
 * one place outside config/ that touches process.env, because libuv reads it there.
 */
import { availableParallelism } from 'node:os';

if (process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = String(Math.min(128, 2 * availableParallelism() + 4));
}
