/**
 * The decoders' side of the worker pool (worker-pool.ts): a decode or a PDF page count as a
 * job (a copy of the source the worker owns, the pixel bound of the limits), its pixels back as
 * what sharp reads, and the registry row of a format whose header is read here and whose
 * pixels are decoded in a worker (BMP, JPEG XL).
 */
import type { DecodeJob, PdfPagesJob, WireDecoded } from './jobs.js';
import type { PdfProbe } from './pdfium.js';
import { checkPixels } from './refuse.js';
import type { Codec, Decoded, DecodeLimits } from './types.js';
import { copyToTransfer, runJob } from './worker-pool.js';

/** A job as a decoder asks for it: the source as it has it; the kind and the pixel bound are added here. */
type Task<J> = J extends unknown ? Omit<J, 'kind' | 'source' | 'maxPixels'> & { readonly source: Buffer } : never;

export type DecodeTask = Task<DecodeJob>;

function fromWire(d: WireDecoded): Decoded {
  const data = Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength);
  return d.kind === 'encoded' ? { kind: 'encoded', data } : { kind: 'raw', data, width: d.width, height: d.height, channels: d.channels, ...(d.depth ? { depth: d.depth } : {}) };
}

/** Decodes in a worker, within `limits.maxPixels`: its pixels. */
export async function decodeInWorker(task: DecodeTask, limits: DecodeLimits): Promise<Decoded> {
  // A copy: the source may be a view into a larger, shared buffer, and the caller keeps it.
  const source = new Uint8Array(copyToTransfer(task.source));
  const job = { ...task, kind: 'decode', source, maxPixels: limits.maxPixels } as DecodeJob;
  return fromWire(await runJob(job, [source.buffer], limits));
}

/** A PDF's page count and the sizes of the pages asked for, read in a worker. */
export async function pdfPagesInWorker(task: Task<PdfPagesJob>, limits: DecodeLimits): Promise<PdfProbe> {
  const source = new Uint8Array(copyToTransfer(task.source));
  return runJob({ ...task, kind: 'pdf-pages', source }, [source.buffer], limits);
}

/**
 * A registry row whose header is read here (`probe`, synchronous, cheap) and whose pixels are
 * decoded in a worker, once the size passed the limit.
 */
export function workerReader(codec: 'bmp' | 'jxl', by: string, probe: (source: Buffer) => { width: number; height: number; hasAlpha?: boolean }): Codec {
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
        return decodeInWorker({ codec, source }, limits);
      },
    },
  };
}
