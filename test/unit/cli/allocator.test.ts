// What `pixproxy serve` adds to the server's environment (src/cli/allocator.ts).
import { describe, expect, it } from 'vitest';
import { allocatorPlan, JEMALLOC_PATHS } from '../../../src/cli/allocator.js';

const none = (): boolean => false;
const jemallocAt = (path: string) => (p: string): boolean => p === path;

describe('allocatorPlan', () => {
  it('sets MALLOC_ARENA_MAX=2 on glibc unless it is set', () => {
    expect(allocatorPlan({ env: {}, malloc: 'glibc', glibc: true, exists: none })).toEqual({ env: { MALLOC_ARENA_MAX: '2' } });
    expect(allocatorPlan({ env: { MALLOC_ARENA_MAX: '4' }, malloc: 'glibc', glibc: true, exists: none })).toEqual({ env: {} });
  });

  it('changes nothing off glibc', () => {
    expect(allocatorPlan({ env: {}, malloc: 'jemalloc', glibc: false, exists: () => true })).toEqual({ env: {} });
  });

  it('preloads jemalloc where it is installed, in front of an existing LD_PRELOAD', () => {
    const lib = JEMALLOC_PATHS[1];
    expect(allocatorPlan({ env: { MALLOC_ARENA_MAX: '2' }, malloc: 'jemalloc', glibc: true, exists: jemallocAt(lib) })).toEqual({ env: { LD_PRELOAD: lib } });
    expect(allocatorPlan({ env: { MALLOC_ARENA_MAX: '2', LD_PRELOAD: '/x.so' }, malloc: 'jemalloc', glibc: true, exists: jemallocAt(lib) }).env).toEqual({ LD_PRELOAD: `${lib}:/x.so` });
  });

  it('adds nothing once jemalloc is preloaded (the child it started), so it never restarts twice', () => {
    expect(allocatorPlan({ env: { MALLOC_ARENA_MAX: '2', LD_PRELOAD: JEMALLOC_PATHS[0] }, malloc: 'jemalloc', glibc: true, exists: () => true })).toEqual({ env: {} });
  });

  it('warns when jemalloc is asked for and missing, and keeps glibc', () => {
    const plan = allocatorPlan({ env: {}, malloc: 'jemalloc', glibc: true, exists: none });
    expect(plan.env).toEqual({ MALLOC_ARENA_MAX: '2' });
    expect(plan.warning).toMatch(/libjemalloc\.so\.2 is not installed/);
  });
});
