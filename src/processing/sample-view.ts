/**
 * Typed views of a frame's samples for the few steps computed in JavaScript (duotone, the
 * progressive blur's blend): 8-bit frames as bytes, 16-bit (preserve_hdr) as 16-bit words
 * over the same memory, with the value of full intensity.
 */
import type { Frame } from './frame.js';

export interface Samples {
  data: Uint8Array | Uint16Array;
  /** 255 or 65535. */
  max: number;
}

export function samplesOf(f: Pick<Frame, 'data' | 'depth'>): Samples {
  if (f.depth === 'ushort') return { data: new Uint16Array(f.data.buffer, f.data.byteOffset, f.data.length / 2), max: 65535 };
  return { data: f.data, max: 255 };
}

/** A new frame buffer of the same layout, for results written sample by sample. */
export function blankLike(f: Frame): Frame {
  return { ...f, data: Buffer.allocUnsafe(f.data.length) };
}
