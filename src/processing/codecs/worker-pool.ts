/**
 * The worker threads the JavaScript and WASM decoders run in (BMP, ICO bitmaps, JPEG XL,
 * PDFium, the PSD composite reader), so a large decode never blocks the event loop that serves
 * every other request. A small pool, started on demand and shrunk when idle: a worker is
 * terminated, not reused, when its request is aborted or reaches its deadline (a synchronous
 * decode cannot be interrupted any other way), after a large decode, and when it says its WASM
 * heap grew large (PDFium's stays as large as its largest page: a WASM heap never shrinks, the
 * memory goes back with the worker).
 *
 * From `dist/` the worker is the compiled `decode-worker.js` next to this module; from the
 * sources (tests, `npm run dev`) the `.ts` file, through tsx.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ProxyError, type ErrorCode } from '../../errors.js';
import { checkAbort } from '../run.js';
import { checkPixels } from './refuse.js';
import type { PdfProbe } from './pdfium.js';
import type { Codec, Decoded, DecodeLimits } from './types.js';

/** What a worker is asked to decode. `maxPixels` bounds what it may allocate. */
export type WorkerTask =
  | { readonly codec: 'bmp' | 'ico' | 'jxl'; readonly source: Buffer }
  /** The PSD composite, 16-bit when asked and the file has the bits (preserve_hdr). */
  | { readonly codec: 'psd'; readonly source: Buffer; readonly highDepth: boolean }
  /** `count` PDF pages from `page`, stacked, at `scale` pixels per point. */
  | { readonly codec: 'pdf'; readonly source: Buffer; readonly page: number; readonly count: number; readonly scale: number };

/** A PDF's page count and page sizes, read by PDFium without rendering (refused past `maxPages`). */
export interface PdfPagesTask {
  readonly codec: 'pdf-pages';
  readonly source: Buffer;
  readonly page: number;
  readonly count: number;
  readonly maxPages: number;
}

type AnyTask = WorkerTask | PdfPagesTask;

/** A task as it is posted: the source as a Uint8Array the worker owns. */
export type WorkerRequest = AnyTask extends infer T ? (T extends AnyTask ? Omit<T, 'source'> & { readonly id: number; readonly source: Uint8Array; readonly maxPixels: number } : never) : never;

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly decoded: WireDecoded; readonly retire?: boolean | undefined }
  | { readonly id: number; readonly ok: true; readonly pages: PdfProbe; readonly retire?: boolean | undefined }
  | { readonly id: number; readonly ok: false; readonly code?: ErrorCode; readonly message: string };

/** Decoded as it crosses the thread boundary (a Uint8Array, transferred). */
export type WireDecoded =
  | { readonly kind: 'encoded'; readonly data: Uint8Array }
  | { readonly kind: 'raw'; readonly data: Uint8Array; readonly width: number; readonly height: number; readonly channels: 1 | 2 | 3 | 4; readonly depth?: 'uchar' | 'ushort' | undefined };

/** Idle workers are let go after this long. */
const IDLE_MS = 15_000;
/** A decode that produced more than this leaves with its worker. */
const RECYCLE_BYTES = 32 * 1024 * 1024;

interface Pooled {
  worker: Worker;
  idleTimer?: NodeJS.Timeout | undefined;
}

const idle: Pooled[] = [];
const waiting: (() => void)[] = [];
let live = 0;
let nextId = 1;

function maxWorkers(): number {
  return Math.max(1, availableParallelism());
}

/**
 * The worker's entry. From the TypeScript sources the worker must load `.ts` modules, and a
 * loader given in a worker's execArgv is not applied to its entry module: the entry is then a
 * small CommonJS script that registers tsx's loader first and imports the worker after it.
 */
function newWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./decode-worker.js', here));
  // tsx's ESM API (its CommonJS twin cannot register from a worker), next to the one resolved.
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./decode-worker.ts', here).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { eval: true });
}

function spawn(): Pooled {
  const worker = newWorker();
  // An idle worker never keeps the process alive.
  worker.unref();
  live++;
  const pooled: Pooled = { worker };
  worker.once('exit', () => {
    live--;
    const at = idle.indexOf(pooled);
    if (at >= 0) idle.splice(at, 1);
    waiting.shift()?.();
  });
  return pooled;
}

function retire(p: Pooled): void {
  clearTimeout(p.idleTimer);
  void p.worker.terminate();
}

function release(p: Pooled): void {
  const next = waiting.shift();
  idle.push(p);
  p.idleTimer = setTimeout(() => {
    const at = idle.indexOf(p);
    if (at >= 0) idle.splice(at, 1);
    void p.worker.terminate();
  }, IDLE_MS);
  p.idleTimer.unref();
  next?.();
}

async function acquire(signal: AbortSignal | undefined): Promise<Pooled> {
  for (;;) {
    checkAbort(signal);
    const p = idle.pop();
    if (p) {
      clearTimeout(p.idleTimer);
      return p;
    }
    if (live < maxWorkers()) return spawn();
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', wake);
        const at = waiting.indexOf(wake);
        if (at >= 0) waiting.splice(at, 1);
        resolve();
      };
      waiting.push(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}

function fromWire(d: WireDecoded): Decoded {
  const data = Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength);
  return d.kind === 'encoded' ? { kind: 'encoded', data } : { kind: 'raw', data, width: d.width, height: d.height, channels: d.channels, ...(d.depth ? { depth: d.depth } : {}) };
}

/** Runs one decode in a worker: its pixels. */
export async function inWorker(task: WorkerTask, limits: DecodeLimits): Promise<Decoded> {
  const reply = await runTask(task, limits);
  if (!('decoded' in reply)) throw new ProxyError('UNSUPPORTED_IMAGE', `${task.codec}: the decoder answered no pixels`);
  return fromWire(reply.decoded);
}

/** A PDF's page count and the sizes of the pages asked for, read in a worker. */
export async function pdfPagesInWorker(task: PdfPagesTask, limits: DecodeLimits): Promise<PdfProbe> {
  const reply = await runTask(task, limits);
  if (!('pages' in reply)) throw new ProxyError('PDF_RENDER_ERROR', 'pdf: the reader answered no pages');
  return reply.pages;
}

type Answer = Extract<WorkerReply, { ok: true }>;

/**
 * Runs one task in a worker. Rejects with the decoder's ProxyError, with TIMEOUT at the
 * deadline, with the abort reason when `limits.signal` fires, and with UNSUPPORTED_IMAGE if the
 * decoder crashed its thread.
 */
async function runTask(task: AnyTask, limits: DecodeLimits): Promise<Answer> {
  const p = await acquire(limits.signal);
  const id = nextId++;
  // A copy the worker owns: the source may be a view into a larger, shared buffer.
  const source = new Uint8Array(task.source);
  return new Promise<Answer>((resolve, reject) => {
    let done = false;
    const finish = (keep: boolean, outcome: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      p.worker.off('message', onMessage);
      p.worker.off('error', onError);
      p.worker.off('exit', onExit);
      if (keep) release(p);
      else retire(p);
      outcome();
    };
    const onMessage = (reply: WorkerReply): void => {
      if (reply.id !== id) return;
      if (reply.ok) {
        const large = 'decoded' in reply && reply.decoded.data.byteLength >= RECYCLE_BYTES;
        finish(!large && reply.retire !== true, () => resolve(reply));
      } else {
        const err = new ProxyError(reply.code ?? 'UNSUPPORTED_IMAGE', reply.message);
        finish(true, () => reject(err));
      }
    };
    const onError = (err: Error): void => finish(false, () => reject(new ProxyError('UNSUPPORTED_IMAGE', `${task.codec}: the decoder failed: ${err.message}`, { cause: err })));
    const onExit = (): void => finish(false, () => reject(new ProxyError('UNSUPPORTED_IMAGE', `${task.codec}: the decoder stopped`)));
    const onAbort = (): void =>
      finish(false, () => {
        try {
          checkAbort(limits.signal);
        } catch (err) {
          reject(err);
        }
      });
    const ms = limits.deadline - Date.now();
    const timer = setTimeout(() => finish(false, () => reject(new ProxyError('TIMEOUT', `${task.codec}: decoding reached the request deadline`))), Math.max(0, ms));
    p.worker.on('message', onMessage);
    p.worker.once('error', onError);
    p.worker.once('exit', onExit);
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    if (limits.signal?.aborted) {
      onAbort();
      return;
    }
    const request = { ...task, id, source, maxPixels: limits.maxPixels } as WorkerRequest;
    p.worker.postMessage(request, [source.buffer]);
  });
}

/**
 * A registry row whose header is read here (`probe`, synchronous, cheap) and whose pixels are
 * decoded in a worker, once the size passed the limit.
 */
export function workerReader(codec: 'bmp' | 'ico' | 'jxl', by: string, probe: (source: Buffer) => { width: number; height: number; hasAlpha?: boolean }): Codec {
  return {
    format: codec,
    by,
    available: true,
    decoder: {
      async probe(source) {
        return { ...probe(source), pages: 1 };
      },
      async decode(source, _request, limits) {
        const { width, height } = probe(source);
        checkPixels(width, height, limits.maxPixels);
        return inWorker({ codec, source }, limits);
      },
    },
  };
}

/** Workers alive now (for tests). */
export function liveWorkers(): number {
  return live;
}
