/**
 * Codecs that are command-line tools of a Debian package (libheif-examples' heif-enc and
 * heif-convert, ffmpeg's ffmpeg and ffprobe): whether the tool is there, and one run of it
 * over files in a private temporary directory, killed (SIGKILL) when the request's signal
 * aborts or its deadline passes, the directory removed whatever happens. The tools read
 * files, not pipes (heif-enc 1.15 takes no stdin; MP4 keeps its index at the end, which a
 * pipe cannot seek to), so the bytes go through the directory; what a tool writes to stdout
 * (ffprobe's JSON, ffmpeg's frame) is kept up to a bound, past which it is killed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyError, type ErrorCode } from '../../errors.js';
import { checkAbort } from '../run.js';
import type { StopLimits } from './types.js';

/** What a tool printed is only for the error message: a bound keeps a chatty tool harmless. */
const MAX_OUTPUT = 64 * 1024;

export interface ToolProbe {
  readonly available: boolean;
  /** Why not, for the startup log and the 422 that asks for it. */
  readonly reason?: string;
}

/** Runs `cmd args` once (synchronously, at startup) and asks `accept` about its output. */
export function probeTool(cmd: string, args: readonly string[], accept: (output: string) => string | null, pkg: string): ToolProbe {
  let out: string;
  try {
    out = execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string };
    if (e.code === 'ENOENT') return { available: false, reason: `${cmd} is not installed (Debian package ${pkg})` };
    // heif-enc answers --list-encoders with exit status 0, others may not: judge by the output.
    out = typeof e.stdout === 'string' ? e.stdout : '';
  }
  const problem = accept(out);
  return problem === null ? { available: true } : { available: false, reason: problem };
}

/** A private directory for one run's files, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'pixproxy-codec-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface RunOptions {
  /** Bytes of stdout (and of stderr) kept at most; past it the tool is killed and the run fails. */
  readonly maxOutput?: number | undefined;
  /** The code of a failure of the tool (it exited non-zero, it is missing, its output overflowed). */
  readonly failure?: ErrorCode | undefined;
}

/**
 * One run of `cmd`, resolving with its stdout; rejects `failure` (UNSUPPORTED_IMAGE) on failure,
 * TIMEOUT at the deadline, the abort reason on abort.
 */
export function runTool(cmd: string, args: readonly string[], limits: StopLimits, what: string, o: RunOptions = {}): Promise<Buffer> {
  checkAbort(limits.signal);
  const left = limits.deadline - Date.now();
  if (!(left > 0)) return Promise.reject(new ProxyError('TIMEOUT', `${what}: reached the request deadline`));
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      child.kill('SIGKILL');
    }, left);
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    const child = execFile(cmd, [...args], { maxBuffer: o.maxOutput ?? MAX_OUTPUT, killSignal: 'SIGKILL', encoding: 'buffer' }, (err, stdout, stderr) => {
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      if (limits.signal?.aborted) {
        try {
          checkAbort(limits.signal);
        } catch (e) {
          reject(e as Error);
          return;
        }
      }
      if (late) reject(new ProxyError('TIMEOUT', `${what}: stopped at the request deadline`));
      else if (err) reject(new ProxyError(o.failure ?? 'UNSUPPORTED_IMAGE', `${what}: ${failureOf(err, stderr.toString('utf8'))}`, { cause: err }));
      else resolve(stdout);
    });
    limits.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Why a run failed, in a few words: the tool's last lines, or what stopped it. */
function failureOf(err: Error & { code?: string | number | null | undefined; path?: string | undefined }, stderr: string): string {
  if (err.code === 'ENOENT') return `${String(err.path ?? 'the tool')} not found`;
  if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return 'its output passed the bound';
  return stderr.trim().split('\n').slice(-3).join(' ') || err.message;
}
