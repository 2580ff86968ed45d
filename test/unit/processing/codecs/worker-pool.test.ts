// The decoder worker pool and the tool runner stop what they start: a worker in the middle of
// a PDF render is terminated at the deadline or on abort (and the pool carries on with a fresh
// one), a tool is killed at the deadline, on abort and when its output passes its bound, and
// the errors are the ProxyErrors the client gets.
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../../../src/errors.js';
import { runTool } from '../../../../src/processing/codecs/tool.js';
import { inWorker, pdfPagesInWorker } from '../../../../src/processing/codecs/worker-pool.js';
import { writePdf } from '../../../helpers/pdf.js';

const soon = (ms: number) => Date.now() + ms;
const limits = (ms: number, signal?: AbortSignal) => ({ maxPixels: 400e6, maxFrames: 1, deadline: soon(ms), signal });
const pdf = writePdf([{ width: 200, height: 100, rgb: [1, 0, 0] }]);

async function rejection(p: Promise<unknown>): Promise<ProxyError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProxyError);
  return err as ProxyError;
}

describe('decoder worker pool', () => {
  it('answers a PDF\'s pages and pixels, and PDFium\'s failures are PDF_RENDER_ERROR', async () => {
    expect(await pdfPagesInWorker({ codec: 'pdf-pages', source: pdf, page: 0, count: 1, maxPages: 10 }, limits(30_000))).toEqual({ pages: 1, sizes: [{ width: 200, height: 100 }] });
    const d = await inWorker({ codec: 'pdf', source: pdf, page: 0, count: 1, scale: 0.5 }, limits(30_000));
    expect(d.kind === 'raw' && [d.width, d.height, d.channels]).toEqual([100, 50, 3]);
    const broken = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(64, 0x20)]);
    expect((await rejection(pdfPagesInWorker({ codec: 'pdf-pages', source: broken, page: 0, count: 1, maxPages: 10 }, limits(30_000)))).code).toBe('PDF_RENDER_ERROR');
  });

  it('terminates a worker at the deadline, then serves the next job', async () => {
    // A render of 8,000 × 4,000 pixels takes far longer than the 50 ms it is given.
    const started = Date.now();
    expect((await rejection(inWorker({ codec: 'pdf', source: pdf, page: 0, count: 1, scale: 40 }, limits(50)))).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await pdfPagesInWorker({ codec: 'pdf-pages', source: pdf, page: 0, count: 1, maxPages: 10 }, limits(30_000))).pages).toBe(1);
  });

  it('terminates on abort, with the abort reason', async () => {
    const ac = new AbortController();
    const stuck = rejection(inWorker({ codec: 'pdf', source: pdf, page: 0, count: 1, scale: 40 }, limits(60_000, ac.signal)));
    setTimeout(() => ac.abort(new ProxyError('CANCELLED', 'client gone')), 100);
    expect((await stuck).code).toBe('CANCELLED');
    expect((await pdfPagesInWorker({ codec: 'pdf-pages', source: pdf, page: 0, count: 1, maxPages: 10 }, limits(30_000))).pages).toBe(1);
  });
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
