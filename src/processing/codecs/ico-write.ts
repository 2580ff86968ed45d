/**
 * Writing ICO, which libvips as shipped with sharp cannot save: one PNG entry in an icon
 * directory (https://learn.microsoft.com/en-us/previous-versions/ms997538(v=msdn.10)).
 */

/** Wraps a PNG (≤ 256 px per side, as ICO requires) in a one-entry ICO container. */
export function encodeIco(png: Buffer, width: number, height: number): Buffer {
  if (width < 1 || height < 1 || width > 256 || height > 256) throw new RangeError(`encodeIco: ICO images are at most 256x256, got ${width}x${height}`);
  const head = Buffer.alloc(22);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(1, 2);
  head.writeUInt16LE(1, 4);
  head[6] = width === 256 ? 0 : width;
  head[7] = height === 256 ? 0 : height;
  head.writeUInt16LE(1, 10);
  head.writeUInt16LE(32, 12);
  head.writeUInt32LE(png.length, 14);
  head.writeUInt32LE(22, 18);
  return Buffer.concat([head, png]);
}
