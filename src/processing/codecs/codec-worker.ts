/**
 * The worker thread of the preview codecs (worker-pool.ts runs it): PDFium's probe and
 * render (pdfium.ts) and the PSD composite reader (psd-read.ts), one job at a time. Failures
 * go back as the ProxyError code and message they carry; anything else is the codec's own
 * decode error. A worker whose WASM heap grew past RETIRE_HEAP_BYTES asks to be retired, so
 * one large page does not keep its memory for the life of the process.
 */
import { parentPort } from 'node:worker_threads';
import { ProxyError } from '../../errors.js';
import { heapBytes, probePdf, renderPdf, type PdfProbe, type PdfRender, type RenderLimits } from './pdfium.js';
import { decodePsd, type PsdLimits, type PsdPixels } from './psd-read.js';
import type { WorkerReply } from './worker-pool.js';

export type CodecJob =
  | { readonly op: 'pdf-probe'; readonly data: Uint8Array; readonly page: number; readonly count: number; readonly maxPages: number }
  | { readonly op: 'pdf-render'; readonly data: Uint8Array; readonly page: number; readonly count: number; readonly scale: number; readonly limits: RenderLimits }
  | { readonly op: 'psd-decode'; readonly data: Uint8Array; readonly limits: PsdLimits };

export type CodecResult = PdfProbe | PdfRender | PsdPixels;

const RETIRE_HEAP_BYTES = 256 * 1024 * 1024;

async function run(job: CodecJob): Promise<CodecResult> {
  switch (job.op) {
    case 'pdf-probe':
      return probePdf(job.data, job.page, job.count, job.maxPages);
    case 'pdf-render':
      return renderPdf(job.data, job.page, job.count, job.scale, job.limits);
    case 'psd-decode':
      return decodePsd(Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength), job.limits);
  }
}

const port = parentPort;
if (port) {
  port.on('message', (msg: { id: number; request: CodecJob }) => {
    void (async () => {
      let reply: WorkerReply<CodecResult>;
      const transfer: ArrayBuffer[] = [];
      try {
        const result = await run(msg.request);
        const pixels = 'data' in result ? result.data : null;
        if (pixels && pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength && pixels.buffer instanceof ArrayBuffer) transfer.push(pixels.buffer);
        const retire = msg.request.op !== 'psd-decode' && (await heapBytes()) > RETIRE_HEAP_BYTES;
        reply = { id: msg.id, ok: true, result, retire };
      } catch (err) {
        const code = err instanceof ProxyError ? err.code : msg.request.op === 'psd-decode' ? 'UNSUPPORTED_IMAGE' : 'PDF_RENDER_ERROR';
        reply = { id: msg.id, ok: false, code, message: err instanceof Error ? err.message : String(err) };
      }
      port.postMessage(reply, transfer);
    })();
  });
}
