/**
 * Worker threads for the codecs that decode in JavaScript or WebAssembly (PDFium, the PSD
 * reader), so a decode never blocks the event loop and can be stopped: when the request's
 * signal aborts or its deadline passes, the worker doing its job is terminated (a WASM call
 * cannot be interrupted any other way) and a fresh one takes its place at the next job.
 *
 * One job per worker at a time; jobs wait in order for a free worker. Workers start on the
 * first job, are unref'd (an idle pool never keeps the process alive) and end after a while
 * without work, so an idle server holds no decoder heap. A worker may ask to be retired after
 * a job (a WASM heap only grows: PDFium's stays as large as its largest page until then).
 */
import { Worker } from 'node:worker_threads';
import { ProxyError, type ErrorCode, ERROR_CODES } from '../../errors.js';
import { checkAbort } from '../run.js';

/** What a worker posts back for a job. */
export type WorkerReply<R> =
  | { readonly id: number; readonly ok: true; readonly result: R; readonly retire?: boolean }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

export interface JobOptions {
  /** Epoch ms: the worker is terminated then and the job fails with TIMEOUT. */
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
  /** ArrayBuffers handed to the worker (not copied; unusable here afterwards). */
  readonly transfer?: readonly ArrayBuffer[];
}

export interface WorkerPool<Q, R> {
  run(request: Q, opts: JobOptions): Promise<R>;
  /** Terminates every worker; jobs still waiting fail with CANCELLED. */
  close(): Promise<void>;
}

export interface WorkerPoolOptions {
  /** The worker's module (its `.ts` source under tsx and vitest, its `.js` build otherwise). */
  readonly script: URL;
  readonly size: number;
  /** What a worker that dies in the middle of a job (a WASM trap, an out-of-memory) means. */
  readonly crashCode: ErrorCode;
  /** Milliseconds an idle worker lives. */
  readonly idleMs?: number;
}

const DEFAULT_IDLE_MS = 30_000;

/** The worker module next to `from` (an `import.meta.url`): `name.ts` in the sources, `name.js` built. */
export function workerScript(from: string, name: string): URL {
  return new URL(`./${name}${from.endsWith('.ts') ? '.ts' : '.js'}`, from);
}

interface Job<Q, R> {
  readonly id: number;
  readonly request: Q;
  readonly opts: JobOptions;
  resolve(r: R): void;
  reject(e: unknown): void;
}

interface Slot {
  readonly worker: Worker;
  busy: boolean;
  idle: NodeJS.Timeout | null;
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

export function createWorkerPool<Q, R>(o: WorkerPoolOptions): WorkerPool<Q, R> {
  // TypeScript sources (tsx, vitest) need tsx's loader registered in the worker before the
  // module loads; `--import tsx` in execArgv does not reach a worker's entry on Node 20.
  const typescript = o.script.pathname.endsWith('.ts');
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(o.script.href)}); })`;
  const slots = new Set<Slot>();
  const queue: Job<Q, R>[] = [];
  let nextId = 1;
  let closed = false;

  const retire = (slot: Slot): void => {
    slots.delete(slot);
    if (slot.idle) clearTimeout(slot.idle);
    void slot.worker.terminate();
  };

  const park = (slot: Slot): void => {
    slot.busy = false;
    slot.idle = setTimeout(() => retire(slot), o.idleMs ?? DEFAULT_IDLE_MS);
    slot.idle.unref();
  };

  function spawn(): Slot {
    const worker = typescript ? new Worker(bootstrap, { eval: true }) : new Worker(o.script);
    worker.unref();
    const slot: Slot = { worker, busy: false, idle: null };
    slots.add(slot);
    return slot;
  }

  function start(slot: Slot, job: Job<Q, R>): void {
    slot.busy = true;
    if (slot.idle) clearTimeout(slot.idle);
    slot.idle = null;
    const { worker } = slot;
    let settled = false;
    const finish = (err: unknown, result?: R, keep = true): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      job.opts.signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onCrash);
      worker.off('exit', onCrash);
      if (keep && slots.has(slot)) park(slot);
      else retire(slot);
      if (err === undefined) job.resolve(result as R);
      else job.reject(err);
      pump();
    };
    const onMessage = (reply: WorkerReply<R>): void => {
      if (reply.id !== job.id) return;
      if (reply.ok) finish(undefined, reply.result, reply.retire !== true);
      else finish(new ProxyError(isErrorCode(reply.code) ? reply.code : o.crashCode, reply.message));
    };
    const onCrash = (err?: unknown): void => {
      const why = err instanceof Error ? err.message : `worker exited with ${String(err)}`;
      finish(new ProxyError(o.crashCode, `decoder worker failed: ${why}`, { cause: err }), undefined, false);
    };
    const onAbort = (): void => {
      try {
        checkAbort(job.opts.signal);
      } catch (err) {
        finish(err, undefined, false);
      }
    };
    const timer = setTimeout(() => finish(new ProxyError('TIMEOUT', 'decoding reached the request deadline'), undefined, false), Math.max(0, job.opts.deadline - Date.now()));
    worker.on('message', onMessage);
    worker.once('error', onCrash);
    worker.once('exit', onCrash);
    job.opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.postMessage({ id: job.id, request: job.request }, [...(job.opts.transfer ?? [])]);
  }

  function pump(): void {
    while (queue.length > 0) {
      let slot = [...slots].find((s) => !s.busy);
      if (!slot && slots.size < o.size) slot = spawn();
      if (!slot) return;
      const job = queue.shift() as Job<Q, R>;
      start(slot, job);
    }
  }

  return {
    run(request, opts) {
      if (closed) return Promise.reject(new ProxyError('CANCELLED', 'decoder pool closed'));
      checkAbort(opts.signal);
      return new Promise<R>((resolve, reject) => {
        // A job still waiting for a worker leaves the queue when its request gives up.
        const leave = (err: unknown): void => {
          const at = queue.indexOf(job);
          if (at < 0) return;
          queue.splice(at, 1);
          job.reject(err);
        };
        const gone = (): void => {
          try {
            checkAbort(opts.signal);
          } catch (err) {
            leave(err);
          }
        };
        const late = setTimeout(() => leave(new ProxyError('TIMEOUT', 'decoding reached the request deadline')), Math.max(0, opts.deadline - Date.now()));
        late.unref();
        const settle = (): void => {
          clearTimeout(late);
          opts.signal?.removeEventListener('abort', gone);
        };
        const job: Job<Q, R> = {
          id: nextId++,
          request,
          opts,
          resolve: (r) => {
            settle();
            resolve(r);
          },
          reject: (e) => {
            settle();
            reject(e);
          },
        };
        opts.signal?.addEventListener('abort', gone, { once: true });
        queue.push(job);
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new ProxyError('CANCELLED', 'decoder pool closed'));
      await Promise.all([...slots].map(async (s) => {
        slots.delete(s);
        if (s.idle) clearTimeout(s.idle);
        await s.worker.terminate();
      }));
    },
  };
}
