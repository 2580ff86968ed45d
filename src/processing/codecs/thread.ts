/**
 * Runs one codec job (jobs.ts) in a worker thread of its own and stops it when the request's
 * signal aborts or its deadline passes: `worker.terminate()` ends WASM mid-loop, which
 * nothing inside the codec could. A thread per job rather than a pool: libjxl's WASM heap
 * grows to ~80 bytes per pixel and a WebAssembly memory never shrinks, so a pooled thread
 * would keep the high-water mark of its largest job; a thread starts in a few tens of
 * milliseconds, small next to the encodes it runs. At most THREADS jobs run at once (the
 * others wait, still cancellable), so the heaps they grow are bounded too.
 *
 * From the TypeScript sources (tests, `npm run dev`) the thread registers tsx before loading
 * codec-worker.ts; from `dist/` it loads codec-worker.js directly.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ProxyError } from '../../errors.js';
import { checkAbort } from '../run.js';
import type { CodecJob, CodecReply } from './jobs.js';

/** Half the cores: codec jobs share the machine with libvips' own threads. */
export const THREADS = Math.max(1, Math.floor(availableParallelism() / 2));

const HERE = import.meta.url;
const FROM_SOURCE = HERE.endsWith('.ts');

function startWorker(): Worker {
  const entry = new URL(`./codec-worker.${FROM_SOURCE ? 'ts' : 'js'}`, HERE).href;
  if (!FROM_SOURCE) return new Worker(new URL(entry));
  // tsx's ESM API (its package.json `exports['./esm/api'].import`), found from this file.
  const tsx = pathToFileURL(join(dirname(createRequire(HERE).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs')).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
}

let running = 0;
const waiting: (() => void)[] = [];

/** A slot among THREADS; resolves at once when one is free. Rejects when `signal` fires first. */
function acquire(signal: AbortSignal | undefined): Promise<void> {
  if (running < THREADS) {
    running++;
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const go = (): void => {
      signal?.removeEventListener('abort', onAbort);
      running++;
      resolve();
    };
    const onAbort = (): void => {
      const i = waiting.indexOf(go);
      if (i !== -1) waiting.splice(i, 1);
      try {
        checkAbort(signal);
      } catch (err) {
        reject(err as Error);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    waiting.push(go);
  });
}

function release(): void {
  running--;
  waiting.shift()?.();
}

export interface ThreadLimits {
  /** Epoch ms: the thread is terminated then and the job answers TIMEOUT. */
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The job's reply; `what` names it in errors. A job that fails inside its codec (bad input,
 * a WASM abort) rejects with UNSUPPORTED_IMAGE, a late one with TIMEOUT, an aborted one with
 * the signal's reason.
 */
export async function runCodecJob(job: CodecJob, transfer: ArrayBuffer[], limits: ThreadLimits, what: string): Promise<CodecReply & { ok: true }> {
  checkAbort(limits.signal);
  await acquire(limits.signal);
  try {
    checkAbort(limits.signal);
    const left = limits.deadline - Date.now();
    if (!(left > 0)) throw new ProxyError('TIMEOUT', `${what}: reached the request deadline`);
    const worker = startWorker();
    const reply = await new Promise<CodecReply>((resolve, reject) => {
      const stop = (err: Error): void => {
        cleanup();
        void worker.terminate();
        reject(err);
      };
      const timer = setTimeout(() => stop(new ProxyError('TIMEOUT', `${what}: stopped at the request deadline`)), left);
      const onAbort = (): void => {
        try {
          checkAbort(limits.signal);
        } catch (err) {
          stop(err as Error);
        }
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        limits.signal?.removeEventListener('abort', onAbort);
      };
      limits.signal?.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (r: CodecReply) => {
        cleanup();
        void worker.terminate();
        resolve(r);
      });
      worker.once('error', (err) => stop(new ProxyError('UNSUPPORTED_IMAGE', `${what}: ${err.message}`, { cause: err })));
      worker.once('exit', (code) => stop(new ProxyError('UNSUPPORTED_IMAGE', `${what}: the codec thread exited (${code})`)));
      worker.postMessage(job, transfer);
    });
    if (!reply.ok) throw new ProxyError('UNSUPPORTED_IMAGE', `${what}: ${reply.error}`);
    return reply;
  } finally {
    release();
  }
}

/**
 * A fresh ArrayBuffer with `buf`'s bytes, to transfer to a thread: the caller's buffer stays
 * usable (best format and autoquality encode the same pixels several times).
 */
export function copyToTransfer(buf: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return copy.buffer;
}
