/**
 * The entry of a codec thread (thread.ts starts one per job): takes one job message, answers
 * one reply, and is terminated by the main thread after it. WASM and JavaScript codecs run
 * here so that a large image never blocks the event loop, and so that the WASM heap a job
 * grew is given back when the thread ends.
 *
 * @jsquash/jxl is loaded by the URL the main thread resolved and typed here by what this file
 * uses of it: its own typings speak of the DOM's ImageData, which a Node build does not have.
 */
import { parentPort } from 'node:worker_threads';
import { dssim } from '../ssim.js';
import type { CodecJob, CodecReply, JxlEncodeJob } from './jobs.js';

interface Emscripten {
  init(module: WebAssembly.Module): Promise<unknown>;
}
interface JxlEncodeModule extends Emscripten {
  default(data: { data: Uint8ClampedArray; width: number; height: number }, options: Record<string, number | boolean>): Promise<ArrayBuffer>;
}

async function jxlEncode(job: JxlEncodeJob): Promise<CodecReply> {
  const m = (await import(job.module)) as JxlEncodeModule;
  await m.init(job.wasm);
  const data = new Uint8ClampedArray(job.pixels);
  const bytes = await m.default({ data, width: job.width, height: job.height }, { quality: job.quality, effort: job.effort, lossless: job.lossless });
  return { ok: true, bytes };
}

async function run(job: CodecJob): Promise<CodecReply> {
  switch (job.kind) {
    case 'jxl-encode':
      return jxlEncode(job);
    case 'bmp-encode': {
      // Imported here only: it brings sharp in, which the JPEG XL jobs do not need.
      const { encodeBmp } = await import('./bmp-write.js');
      const out = encodeBmp(Buffer.from(job.pixels), job.width, job.height, job.channels);
      const bytes = new Uint8Array(out.length);
      bytes.set(out);
      return { ok: true, bytes: bytes.buffer };
    }
    case 'dssim':
      return { ok: true, value: dssim(new Uint8Array(job.a), new Uint8Array(job.b), job.width, job.height, job.channels) };
  }
}

const port = parentPort;
if (port) {
  port.once('message', (job: CodecJob) => {
    run(job).then(
      (reply) => port.postMessage(reply, 'bytes' in reply ? [reply.bytes] : []),
      // An Emscripten abort is a RuntimeError; its message is all the main thread needs.
      (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) } satisfies CodecReply),
    );
  });
}
