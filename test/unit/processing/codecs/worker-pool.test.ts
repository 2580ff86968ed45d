// The codec worker pool and the tool runner stop what they start: a worker in the middle of a
// PDF render or a JPEG XL encode is terminated at the deadline or on abort (its thread exits,
// and the pool carries on with a fresh one), a job waiting for a slot leaves the queue on
// abort, a small job reuses a warm worker while one whose WASM heap grew large or whose result
// was large is let go; a tool is killed at the deadline, on abort and when its output passes
// its bound; the errors are the ProxyErrors the client gets.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ProxyError } from '../../../../src/errors.js';
import { encodeBmp } from '../../../../src/processing/codecs/bmp-write.js';
import type { JxlEncodeJob } from '../../../../src/processing/codecs/jobs.js';
import { JXL_ENCODE_MODULE, jxlWasm } from '../../../../src/processing/codecs/jxl-encoder.js';
import { runTool } from '../../../../src/processing/codecs/tool.js';
import { decodeInWorker, pdfPagesInWorker } from '../../../../src/processing/codecs/worker-decode.js';
import { copyToTransfer, poolStats, RECYCLE_BYTES, runJob, stopIdleWorkers, THREADS } from '../../../../src/processing/codecs/worker-pool.js';
import { writePdf } from '../../../helpers/pdf.js';

const soon = (ms: number) => Date.now() + ms;
const limits = (ms: number, signal?: AbortSignal) => ({ maxPixels: 400e6, maxFrames: 1, deadline: soon(ms), signal });
const pdf = writePdf([{ width: 200, height: 100, rgb: [1, 0, 0] }]);
const pages = (ms = 30_000) => pdfPagesInWorker({ source: pdf, page: 0, count: 1, maxPages: 10 }, limits(ms));
/** A render of 8,000 × 4,000 pixels: far longer than the time it is given. */
const longRender = (ms: number, signal?: AbortSignal) => decodeInWorker({ codec: 'pdf', source: pdf, page: 0, count: 1, scale: 40 }, limits(ms, signal));

async function rejection(p: Promise<unknown>): Promise<ProxyError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProxyError);
  return err as ProxyError;
}

/** A JPEG XL encode of `side`² grey pixels at `effort`. */
async function jxlJob(side: number, effort: number): Promise<JxlEncodeJob> {
  const pixels = copyToTransfer(Buffer.alloc(side * side * 4, 0x7f));
  return { kind: 'jxl-encode', module: JXL_ENCODE_MODULE, wasm: await jxlWasm('enc'), pixels, width: side, height: side, quality: 80, effort, lossless: false };
}

/** Holds every encode slot with a long JPEG XL encode; the function returned aborts them and gives their codes. */
async function holdEncodeSlots(): Promise<() => Promise<string[]>> {
  const holders = new AbortController();
  const jobs = await Promise.all(Array.from({ length: THREADS }, () => jxlJob(2048, 9)));
  const held = jobs.map((j) => rejection(runJob(j, [], { deadline: soon(60_000), signal: holders.signal })));
  await vi.waitFor(() => expect(poolStats().live).toBe(THREADS));
  return async () => {
    holders.abort();
    return (await Promise.all(held)).map((e) => e.code);
  };
}

/** Every worker this file started is gone: the one that ran the job was terminated, not parked. */
async function allExited(): Promise<void> {
  await vi.waitFor(() => expect(poolStats().live).toBe(0), { timeout: 10_000, interval: 20 });
}

beforeEach(async () => {
  await stopIdleWorkers();
  expect(poolStats().live).toBe(0);
});

describe('codec worker pool: decoders', () => {
  it('answers a PDF\'s pages and pixels, and PDFium\'s failures are PDF_RENDER_ERROR', async () => {
    expect(await pages()).toEqual({ pages: 1, sizes: [{ width: 200, height: 100 }] });
    const d = await decodeInWorker({ codec: 'pdf', source: pdf, page: 0, count: 1, scale: 0.5 }, limits(30_000));
    expect(d.kind === 'raw' && [d.width, d.height, d.channels]).toEqual([100, 50, 3]);
    const broken = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(64, 0x20)]);
    expect((await rejection(pdfPagesInWorker({ source: broken, page: 0, count: 1, maxPages: 10 }, limits(30_000)))).code).toBe('PDF_RENDER_ERROR');
  });

  it('terminates a worker at the deadline, then serves the next job', async () => {
    const started = Date.now();
    expect((await rejection(longRender(50))).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
    await allExited();
    expect((await pages()).pages).toBe(1);
  });

  it('terminates on abort, with the abort reason: the worker\'s thread exits', async () => {
    const ac = new AbortController();
    const before = poolStats().started;
    const stuck = rejection(longRender(60_000, ac.signal));
    await vi.waitFor(() => expect(poolStats().live).toBe(1));
    setTimeout(() => ac.abort(new ProxyError('CANCELLED', 'client gone')), 100);
    expect((await stuck).code).toBe('CANCELLED');
    expect(poolStats().started).toBe(before + 1);
    await allExited();
    expect((await pages()).pages).toBe(1);
  });

  it('a small decode reuses the warm worker; a large result leaves with its worker', async () => {
    const small = encodeBmp(Buffer.alloc(64 * 48 * 3, 0x40), 64, 48, 3);
    const before = poolStats().started;
    for (let i = 0; i < 3; i++) {
      const d = await decodeInWorker({ codec: 'bmp', source: small }, limits(30_000));
      expect(d.kind === 'raw' && [d.width, d.height]).toEqual([64, 48]);
    }
    expect(poolStats()).toEqual({ started: before + 1, live: 1, idle: 1 });
    // 4,000 × 3,000 × 3 bytes of pixels: over the bound a worker is kept after.
    const large = encodeBmp(Buffer.alloc(4000 * 3000 * 3, 0x40), 4000, 3000, 3);
    const d = await decodeInWorker({ codec: 'bmp', source: large }, limits(30_000));
    expect(d.data.byteLength).toBeGreaterThanOrEqual(RECYCLE_BYTES);
    expect(poolStats().started).toBe(before + 1);
    await allExited();
  }, 60_000);
});

describe('codec worker pool: encoders', () => {
  it('an aborted encode has its thread terminated, not left running to the end', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const job = runJob(await jxlJob(2048, 9), [], { deadline: soon(60_000), signal: ac.signal });
    await vi.waitFor(() => expect(poolStats().live).toBe(1));
    setTimeout(() => ac.abort(new ProxyError('CANCELLED', 'client left')), 100);
    expect((await rejection(job)).code).toBe('CANCELLED');
    await allExited();
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);

  it('a job waiting for an encode slot leaves the queue on abort, before any worker runs it', async () => {
    const release = await holdEncodeSlots();
    const ac = new AbortController();
    const waiting = rejection(runJob(await jxlJob(16, 1), [], { deadline: soon(60_000), signal: ac.signal }));
    ac.abort(new ProxyError('CANCELLED', 'client left'));
    expect((await waiting).code).toBe('CANCELLED');
    // No worker was started for it: the slots are all held.
    expect(poolStats().live).toBe(THREADS);
    expect(await release()).toEqual(Array.from({ length: THREADS }, () => 'CANCELLED'));
    await allExited();
  }, 30_000);

  it('a waiting job that reaches its deadline is TIMEOUT', async () => {
    const release = await holdEncodeSlots();
    const late = await jxlJob(16, 1);
    expect((await rejection(runJob(late, [], { deadline: soon(200) }))).code).toBe('TIMEOUT');
    expect(poolStats().live).toBe(THREADS);
    await release();
    await allExited();
  }, 30_000);

  it('small encodes reuse the warm worker; one whose WASM heap grew large is not reused', async () => {
    const before = poolStats().started;
    for (let i = 0; i < 2; i++) {
      const bytes = await runJob(await jxlJob(64, 1), [], limits(30_000));
      expect([bytes[0], bytes[1]]).toEqual([0xff, 0x0a]);
    }
    expect(poolStats()).toEqual({ started: before + 1, live: 1, idle: 1 });
    // 1,024² pixels grow libjxl's heap to ~100 MB (4 MB in, a few bytes out): over RETIRE_HEAP_BYTES.
    await runJob(await jxlJob(1024, 1), [], limits(60_000));
    expect(poolStats().started).toBe(before + 1);
    await allExited();
    await runJob(await jxlJob(64, 1), [], limits(30_000));
    expect(poolStats().started).toBe(before + 2);
  }, 60_000);

  it('a codec that throws is UNSUPPORTED_IMAGE, named after the job, and its worker is not reused', async () => {
    const job = { ...(await jxlJob(16, 1)), width: 100, height: 100 };
    const err = await rejection(runJob(job, [], limits(30_000)));
    expect([err.code, err.status, err.message.startsWith('JPEG XL encoder: ')]).toEqual(['UNSUPPORTED_IMAGE', 422, true]);
    await allExited();
  }, 30_000);
});

describe('tool runner', () => {
  const run = { deadline: soon(30_000) };

  it('gives the tool\'s stdout', async () => {
    expect((await runTool('echo', ['hi'], run, 'echo')).toString()).toBe('hi\n');
  });

  it('kills the tool at the deadline', async () => {
    const started = Date.now();
    expect((await rejection(runTool('sleep', ['30'], { deadline: soon(300) }, 'sleep'))).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('kills the tool on abort and when its output passes the bound', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    expect((await rejection(runTool('sleep', ['30'], { deadline: soon(30_000), signal: ac.signal }, 'sleep'))).code).toBe('CANCELLED');
    const err = await rejection(runTool('yes', [], run, 'yes', { maxOutput: 10_000, failure: 'VIDEO_DECODE_ERROR' }));
    expect([err.code, err.message]).toEqual(['VIDEO_DECODE_ERROR', 'yes: its output passed the bound']);
  });

  it('a missing binary or a failing run is the codec\'s error, not a crash', async () => {
    const missing = await rejection(runTool('/nonexistent/ffmpeg', [], run, 'ffmpeg', { failure: 'VIDEO_DECODE_ERROR' }));
    expect(missing.code).toBe('VIDEO_DECODE_ERROR');
    expect(missing.message).toMatch(/not found/);
    expect((await rejection(runTool('false', [], run, 'false'))).code).toBe('UNSUPPORTED_IMAGE');
  });
});
