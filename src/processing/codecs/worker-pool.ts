/**
 * Runs the codec jobs of jobs.ts (the JavaScript and WASM decoders, PDFium, the JPEG XL and BMP
 * encoders, DSSIM) in worker threads, so that a large image never blocks the event loop that
 * serves every other request. The one mechanism for all of them:
 *
 * - Cancellation. A job whose request is aborted or reaches its deadline has its worker
 *   terminated: `worker.terminate()` ends a synchronous decode or a WASM loop mid-way, which
 *   nothing inside the codec could. A job still waiting for a slot leaves the queue then.
 * - A concurrency bound per lane: decoders on every core, encoders and DSSIM on THREADS
 *   (half the cores), since they run next to libvips' own threads. The others wait.
 * - Reuse. A worker that answered is kept warm for the next job (a thread and its WASM module
 *   cost tens of milliseconds to start) unless its WebAssembly heaps grew past
 *   RETIRE_HEAP_BYTES, its job moved RECYCLE_BYTES or more, or its codec failed by throwing
 *   rather than refusing: a WebAssembly memory never shrinks (libjxl grows to ~100 bytes per
 *   pixel it encodes, PDFium to its largest page), so the memory goes back with the worker, and
 *   a codec that aborted may have left its module unusable. Idle workers are let go after
 *   IDLE_MS, and at most one per core is kept.
 *
 * The entry is worker-entry.ts: from `dist/` its compiled `worker-entry.js` next to this module;
 * from the sources (tests, `npm run dev`) the `.ts` file, through tsx.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ProxyError } from '../../errors.js';
import { checkAbort } from '../run.js';
import { failureCode, jobName, LANE, resultBuffers, type Job, type JobReply, type JobRequest, type JobResults, type Lane, type ResultOf } from './jobs.js';
import type { StopLimits } from './types.js';

const CORES = Math.max(1, availableParallelism());

/** Encode and DSSIM jobs at once: half the cores, the other half is libvips'. */
export const THREADS = Math.max(1, Math.floor(CORES / 2));

const BOUNDS: Readonly<Record<Lane, number>> = { decode: CORES, encode: THREADS };

/** A worker that holds more WebAssembly heap than this after a job is not reused. */
export const RETIRE_HEAP_BYTES = 64 * 1024 * 1024;
/** A job that sent or answered this many bytes leaves with its worker. */
export const RECYCLE_BYTES = 32 * 1024 * 1024;
/** Idle workers are let go after this long. */
const IDLE_MS = 15_000;
const MAX_IDLE = CORES;
/** setTimeout's largest delay; a later deadline is as good as none. */
const MAX_DELAY = 2 ** 31 - 1;

interface Pooled {
  readonly worker: Worker;
  idleTimer?: NodeJS.Timeout | undefined;
}

interface LaneSlots {
  running: number;
  readonly waiting: (() => void)[];
}

const lanes: Readonly<Record<Lane, LaneSlots>> = { decode: { running: 0, waiting: [] }, encode: { running: 0, waiting: [] } };
const idle: Pooled[] = [];
let live = 0;
let started = 0;
let nextId = 1;

const HERE = import.meta.url;

/**
 * A new worker on the entry. From the TypeScript sources the worker must load `.ts` modules,
 * and a loader given in a worker's execArgv is not applied to its entry module: the entry is
 * then a small script that registers tsx's ESM API (its CommonJS twin cannot register from a
 * worker) and imports worker-entry.ts after it.
 */
function startWorker(): Worker {
  if (!HERE.endsWith('.ts')) return new Worker(new URL('./worker-entry.js', HERE));
  const tsx = pathToFileURL(join(dirname(createRequire(HERE).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs')).href;
  const entry = new URL('./worker-entry.ts', HERE).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { eval: true });
}

function spawn(): Pooled {
  const worker = startWorker();
  // An idle worker never keeps the process alive; a running job's deadline timer does.
  worker.unref();
  live++;
  started++;
  const pooled: Pooled = { worker };
  worker.once('exit', () => {
    live--;
    clearTimeout(pooled.idleTimer);
    const at = idle.indexOf(pooled);
    if (at >= 0) idle.splice(at, 1);
  });
  return pooled;
}

/** A warm worker if one is idle, else a new one. */
function take(): Pooled {
  const p = idle.pop();
  if (!p) return spawn();
  clearTimeout(p.idleTimer);
  return p;
}

function park(p: Pooled): void {
  if (idle.length >= MAX_IDLE) {
    void p.worker.terminate();
    return;
  }
  idle.push(p);
  p.idleTimer = setTimeout(() => void p.worker.terminate(), IDLE_MS);
  p.idleTimer.unref();
}

function delayUntil(deadline: number): number {
  return Math.min(MAX_DELAY, Math.max(0, deadline - Date.now()));
}

/** The error a fired signal stands for: its reason when a ProxyError, else CANCELLED (checkAbort's). */
function abortError(signal: AbortSignal | undefined): Error {
  try {
    checkAbort(signal);
  } catch (err) {
    return err as Error;
  }
  return new ProxyError('CANCELLED', 'processing aborted');
}

/** A slot of `lane`; rejects with the abort reason or TIMEOUT when the job stops waiting first. */
function acquire(lane: Lane, limits: StopLimits, name: string): Promise<void> {
  const slots = lanes[lane];
  if (slots.running < BOUNDS[lane]) {
    slots.running++;
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const leave = (): void => {
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      const at = slots.waiting.indexOf(go);
      if (at >= 0) slots.waiting.splice(at, 1);
    };
    const go = (): void => {
      leave();
      slots.running++;
      resolve();
    };
    const onAbort = (): void => {
      leave();
      reject(abortError(limits.signal));
    };
    const timer = setTimeout(() => {
      leave();
      reject(new ProxyError('TIMEOUT', `${name}: reached the request deadline`));
    }, delayUntil(limits.deadline));
    slots.waiting.push(go);
    limits.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function release(lane: Lane): void {
  lanes[lane].running--;
  lanes[lane].waiting.shift()?.();
}

/**
 * Runs `job` in a worker, `transfer` (the job's buffers) moved to it, not copied: the job's
 * result. Rejects with the codec's own ProxyError, with its failure code (UNSUPPORTED_IMAGE,
 * PDF_RENDER_ERROR) when the codec threw or its thread died, with TIMEOUT at the deadline and
 * with the abort reason when `limits.signal` fires, waiting or running.
 */
export async function runJob<J extends Job>(job: J, transfer: readonly ArrayBuffer[], limits: StopLimits): Promise<ResultOf<J>> {
  const name = jobName(job);
  const lane = LANE[job.kind];
  checkAbort(limits.signal);
  await acquire(lane, limits, name);
  try {
    checkAbort(limits.signal);
    if (!(limits.deadline > Date.now())) throw new ProxyError('TIMEOUT', `${name}: reached the request deadline`);
    return (await exchange(take(), job, transfer, limits, name)) as ResultOf<J>;
  } finally {
    release(lane);
  }
}

function bytes(buffers: readonly ArrayBuffer[]): number {
  return buffers.reduce((n, b) => n + b.byteLength, 0);
}

function exchange(p: Pooled, job: Job, transfer: readonly ArrayBuffer[], limits: StopLimits, name: string): Promise<JobResults[keyof JobResults]> {
  const id = nextId++;
  const sent = bytes(transfer);
  const { worker } = p;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (keep: boolean, settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (keep) park(p);
      else void worker.terminate();
      settle();
    };
    const onMessage = (reply: JobReply): void => {
      if (reply.id !== id) return;
      const small = reply.heap <= RETIRE_HEAP_BYTES && sent < RECYCLE_BYTES;
      if (reply.ok) {
        finish(small && bytes(resultBuffers(reply.result)) < RECYCLE_BYTES, () => resolve(reply.result));
        return;
      }
      // A refusal of the codec's own is the client's answer; anything else is named after the job.
      const err = new ProxyError(reply.code ?? failureCode(job), reply.code ? reply.message : `${name}: ${reply.message}`);
      finish(small && reply.code !== undefined, () => reject(err));
    };
    const onError = (err: Error): void => finish(false, () => reject(new ProxyError(failureCode(job), `${name}: ${err.message}`, { cause: err })));
    const onExit = (code: number): void => finish(false, () => reject(new ProxyError(failureCode(job), `${name}: the worker exited (${code})`)));
    const onAbort = (): void => finish(false, () => reject(abortError(limits.signal)));
    const timer = setTimeout(() => finish(false, () => reject(new ProxyError('TIMEOUT', `${name}: stopped at the request deadline`))), delayUntil(limits.deadline));
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    worker.postMessage({ id, job } satisfies JobRequest, [...transfer]);
  });
}

/**
 * A fresh ArrayBuffer with `buf`'s bytes, to transfer to a worker: the caller's buffer stays
 * usable (best format and autoquality encode the same pixels several times), and a Buffer that
 * is a view into a larger, shared one moves nothing else.
 */
export function copyToTransfer(buf: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return copy.buffer;
}

/** Lets the idle workers go now, resolved once their threads exited (tests; a host that wants its memory back). */
export async function stopIdleWorkers(): Promise<void> {
  await Promise.all(idle.splice(0).map((p) => p.worker.terminate()));
}

export interface PoolStats {
  /** Workers started since the process began. */
  readonly started: number;
  /** Workers alive now, running or idle. */
  readonly live: number;
  readonly idle: number;
}

/** How many workers there are (tests). */
export function poolStats(): PoolStats {
  return { started, live, idle: idle.length };
}
