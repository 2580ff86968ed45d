/**
 * The allocator settings `pixproxy serve` starts the server with, which glibc and the dynamic
 * loader read only when a process starts (so they are set for a child process, not in this
 * one): MALLOC_ARENA_MAX=2, sharp's advice against the fragmentation libvips' threads cause
 * on glibc (https://sharp.pixelplumbing.com/install#linux-memory-allocator), and, with
 * PIXPROXY_MALLOC=jemalloc, jemalloc preloaded when it is installed. Pure: the caller passes
 * the environment and the file test.
 */

/** Where Debian's libjemalloc2 puts the library on the architectures sharp ships for. */
export const JEMALLOC_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
] as const;

export interface AllocatorInput {
  /** MALLOC_ARENA_MAX and LD_PRELOAD as the process has them. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** PIXPROXY_MALLOC. */
  readonly malloc: 'glibc' | 'jemalloc';
  /** Whether this Node runs on glibc (neither variable means anything elsewhere). */
  readonly glibc: boolean;
  readonly exists: (path: string) => boolean;
}

export interface AllocatorPlan {
  /** Variables to add; empty when the process already runs as wanted. */
  readonly env: Readonly<Record<string, string>>;
  readonly warning?: string;
}

export function allocatorPlan(input: AllocatorInput): AllocatorPlan {
  if (!input.glibc) return { env: {} };
  const env: Record<string, string> = {};
  if (input.env.MALLOC_ARENA_MAX === undefined) env.MALLOC_ARENA_MAX = '2';
  if (input.malloc !== 'jemalloc') return { env };
  const preload = input.env.LD_PRELOAD ?? '';
  if (/libjemalloc/.test(preload)) return { env };
  const lib = JEMALLOC_PATHS.find((p) => input.exists(p));
  if (lib === undefined) {
    return { env, warning: 'PIXPROXY_MALLOC=jemalloc but libjemalloc.so.2 is not installed (Debian: libjemalloc2); using glibc malloc' };
  }
  env.LD_PRELOAD = preload === '' ? lib : `${lib}:${preload}`;
  return { env };
}
