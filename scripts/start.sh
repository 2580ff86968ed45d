#!/bin/sh
# Starts the built server with the allocator settings sharp recommends on glibc Linux:
# MALLOC_ARENA_MAX=2 limits the per-thread arenas that fragment under libvips' thread
# pool (RSS otherwise creeps up under load); PIXPROXY_MALLOC=jemalloc preloads jemalloc
# when the library is installed (Debian: libjemalloc2). Either can be overridden.
set -e
cd "$(dirname "$0")/.."
: "${MALLOC_ARENA_MAX:=2}"
export MALLOC_ARENA_MAX
if [ "${PIXPROXY_MALLOC:-}" = "jemalloc" ]; then
  for lib in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
    if [ -f "$lib" ]; then LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"; export LD_PRELOAD; break; fi
  done
  [ -n "${LD_PRELOAD:-}" ] || echo "pixproxy: PIXPROXY_MALLOC=jemalloc but libjemalloc.so.2 is not installed; using glibc malloc" >&2
fi
exec node dist/main.js "$@"
