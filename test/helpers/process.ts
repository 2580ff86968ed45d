/**
 * Runs pixproxy as a real child process (`node --import tsx src/main.ts`, another entry such
 * as `src/cli/bin.cts serve`, or a built one without tsx) on 127.0.0.1:0, reading the bound
 * port from its JSON "listening" log line, and its memory as the kernel counts it. Used by
 * crash, shutdown, memory, deadline, CLI and package tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { reapChild } from './reaper.js';

export interface ChildServer {
  child: ChildProcess;
  url: string;
  pid: number;
  logs: string[];
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  /** Runs the entry under tsx (the sources); false for built JavaScript (`dist/`, an installed package). */
  readonly tsx?: boolean;
  readonly cwd?: string;
}

export async function spawnServer(env: Record<string, string>, entry: readonly string[] = ['src/main.ts'], o: SpawnOptions = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, [...(o.tsx === false ? [] : ['--import', 'tsx']), ...entry], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', IMGPROXY_BIND: '127.0.0.1:0', IMGPROXY_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(o.cwd ? { cwd: o.cwd } : {}),
  });
  // Killed with the test run even when the run is SIGKILLed (no afterAll runs then).
  reapChild(child);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      // Nobody holds a server that never said it listens: do not leave it running.
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${logs.join('')}`));
    }, 30_000);
    rl.on('line', (line) => {
      logs.push(line);
      try {
        const j = JSON.parse(line) as { msg?: string; port?: number };
        if (j.msg === 'listening' && j.port) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${j.port}`);
        }
      } catch {
        // not JSON
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${logs.join('\n')}`));
    });
  });
  return { child, url, pid: child.pid ?? 0, logs, exited };
}

/** Whether a process of this PID exists (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface ProcessMemory {
  /** Resident set size now, bytes (VmRSS). */
  rss: number;
  /** Highest resident set size since start or the last resetPeak, bytes (VmHWM). */
  peak: number;
}

/** A process's memory from /proc (Linux): what the kernel counts, native allocations included. */
export async function processMemory(pid: number): Promise<ProcessMemory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Resets VmHWM to the current RSS (proc(5), /proc/pid/clear_refs), so a peak can be measured per phase. */
export async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

export interface TestServer extends ChildServer {
  /** SIGTERM, wait for the exit, remove the cache directory. */
  stop(): Promise<void>;
}

/**
 * A child-process server for crash, memory and CPU tests: loopback sources allowed, no result
 * cache (every request is processed), a temporary cache directory; `env` adds or overrides.
 */
export async function spawnTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'pixproxy-child-'));
  let server: ChildServer;
  try {
    server = await spawnServer({
      IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true',
      IMGPROXY_CACHE_USE: 'none',
      PP_CACHE_MEMORY_MAX_MB: '0',
      PP_CACHE_DIR: dir,
      ...env,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...server,
    async stop() {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM a child server and wait for its exit (SIGKILL after 5 s); nothing when it has exited already. */
export async function stopChild(c: ChildServer | undefined): Promise<void> {
  if (!c || c.child.exitCode !== null) return;
  process.kill(c.pid, 'SIGTERM');
  const t = setTimeout(() => c.child.exitCode === null && process.kill(c.pid, 'SIGKILL'), 5000);
  await c.exited;
  clearTimeout(t);
}
