/**
 * Starting the servers under test as child processes on free loopback ports: pixproxy
 * (from src/main.ts through tsx, or a built entry), the origin and the Node baselines.
 * Each answers `GET /health` once ready; nothing is shared between them but the machine.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnProc, waitForHttp, type Proc } from './lib/proc.js';

export interface Server {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly proc: Proc;
  /** nginx forks workers: memory is counted over the children too. */
  readonly withChildren: boolean;
  stop(): Promise<void>;
}

export interface ServerEnv {
  /** Repository root (cwd of pixproxy). */
  root: string;
  /** pixproxy entry relative to root: src/main.ts (through tsx) or dist/main.js. */
  pixproxyEntry: string;
  /** Added to (and overriding) pixproxy's bench environment. */
  pixproxyEnv?: Record<string, string>;
}

function nodeArgs(entry: string, extra: string[] = []): string[] {
  return /\.[cm]?ts$/.test(entry) ? [...extra, '--import', 'tsx', entry] : [...extra, entry];
}

async function started(name: string, proc: Proc, port: number, withChildren = false, healthPath = '/health', timeoutMs?: number): Promise<Server> {
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(proc, `${url}${healthPath}`, timeoutMs);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { name, url, port, proc, withChildren, stop: () => proc.stop() };
}

export interface PixproxyOptions {
  cacheDir: string;
  /** L1 budget in MB (PP_CACHE_MEMORY_MAX_MB); undefined = pixproxy's default. */
  memoryMb?: number;
  /**
   * Write V8 CPU profiles into this directory (one per thread: with tsx, the module-loader
   * thread writes one too; the main thread's file has thread id 0 in its name).
   */
  profileDir?: string;
}

/** The environment pixproxy runs with in every scenario (also used by the L2 pre-fill). */
export function pixproxyEnv(port: number, o: PixproxyOptions): Record<string, string> {
  return {
    IMGPROXY_BIND: `127.0.0.1:${port}`,
    IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true',
    IMGPROXY_LOG_LEVEL: 'warn',
    // As `npm start` (`pixproxy serve`, src/cli/allocator.ts) runs it: sharp's allocator advice on glibc. Without it
    // peak RSS of the miss scenarios doubles from arena fragmentation.
    MALLOC_ARENA_MAX: '2',
    // And the thread pool `pixproxy serve` sizes (src/threadpool.cts: 2 per core + 4), which a
    // plain `node dist/main.js` gets too late; with libuv's 4, cache writes and fsyncs queue
    // behind the images in flight.
    UV_THREADPOOL_SIZE: String(Math.min(128, 2 * availableParallelism() + 4)),
    PP_CACHE_DIR: o.cacheDir,
    // The scenarios count transforms and fetches from /metrics.
    PIXPROXY_METRICS_ON_MAIN_PORT: 'true',
    // No background sweep during a measurement.
    PP_CACHE_CLEANUP_INTERVAL_SECS: '0',
    // The 50 MP source of the scale scenario is just above imgproxy's default limit of 50.
    IMGPROXY_MAX_SRC_RESOLUTION: '64',
    // Slow misses under load must not turn into timeouts (not a tuning knob: no effect on speed).
    IMGPROXY_TIMEOUT: '60',
    IMGPROXY_DOWNLOAD_TIMEOUT: '30',
    IMGPROXY_GRACEFUL_STOP_TIMEOUT: '3',
    ...(o.memoryMb !== undefined ? { PP_CACHE_MEMORY_MAX_MB: String(o.memoryMb) } : {}),
  };
}

export async function startPixproxy(env: ServerEnv, o: PixproxyOptions): Promise<Server> {
  const port = await freePort();
  const prof = o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : [];
  const proc = spawnProc('pixproxy', process.execPath, nodeArgs(env.pixproxyEntry, prof), { cwd: env.root, env: { ...pixproxyEnv(port, o), ...env.pixproxyEnv } });
  return started('pixproxy', proc, port);
}

export type BaselineKind = 'origin' | 'sharp' | 'bare' | 'files' | 'ipx';

const BASELINE_NAMES: Record<BaselineKind, string> = { origin: 'origin', sharp: 'sharp loop', bare: 'bare node:http', files: 'bare node:http (files)', ipx: 'ipx' };

/**
 * Starts bench/baselines/<kind>-server.ts serving (or reading sources from) `dir`; `extra`
 * arguments follow (the sharp server's origin URL), and `name` replaces the default name.
 */
export async function startBaseline(env: ServerEnv, kind: BaselineKind, dir: string, extra: string[] = [], name = BASELINE_NAMES[kind]): Promise<Server> {
  const port = await freePort();
  const script = join(env.root, 'bench', 'baselines', `${kind}-server.ts`);
  const proc = spawnProc(name, process.execPath, [...nodeArgs(script), String(port), dir, ...extra], { cwd: env.root, env: { NODE_ENV: 'production' } });
  return started(name, proc, port);
}

/** The Next.js 16 image optimizer (bench/baselines/next-server.ts; the first start builds its app). */
export async function startNext(env: ServerEnv, originPort: number): Promise<Server> {
  const port = await freePort();
  const script = join(env.root, 'bench', 'baselines', 'next-server.ts');
  const proc = spawnProc('Next.js 16', process.execPath, [...nodeArgs(script), String(port), String(originPort)], { cwd: env.root, env: { NODE_ENV: 'production' } });
  // The wrapper's child is `next start`: memory is counted over both.
  // A first start runs `next build`: minutes on a loaded 2-core machine.
  return started('Next.js 16', proc, port, true, '/', 600_000);
}
