/**
 * Reads the few textual IFD0 tags we carry over to the output (Artist, Copyright and, when
 * metadata is kept, a handful of descriptive ones) from the raw EXIF block sharp returns.
 *
 * Why: the pipeline goes through raw pixel buffers between steps, so sharp's keepExif()
 * has nothing to keep at encode time; sharp can only write EXIF from string pairs
 * (withExif). Binary, GPS and sub-IFD tags are not carried over.
 */

const COPYRIGHT_TAGS: Readonly<Record<number, string>> = { 0x013b: 'Artist', 0x8298: 'Copyright' };
const DESCRIPTIVE_TAGS: Readonly<Record<number, string>> = {
  ...COPYRIGHT_TAGS,
  0x010e: 'ImageDescription',
  0x010f: 'Make',
  0x0110: 'Model',
  0x0131: 'Software',
  0x0132: 'DateTime',
};

const ASCII = 2;
/** Bounds a hostile EXIF block: IFD0 never needs more entries than this. */
const MAX_ENTRIES = 512;

/** Returns IFD0 ASCII tags by name; `all` adds descriptive tags to Artist/Copyright. */
export function readExifText(exif: Buffer | undefined, all: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (!exif) return out;
  const tags = all ? DESCRIPTIVE_TAGS : COPYRIGHT_TAGS;
  // sharp's block starts with "Exif\0\0" before the TIFF header.
  const start = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? 6 : 0;
  const tiff = exif.subarray(start);
  if (tiff.length < 8) return out;
  const order = tiff.subarray(0, 2).toString('latin1');
  if (order !== 'II' && order !== 'MM') return out;
  const le = order === 'II';
  const u16 = (o: number): number => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number): number => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return out;
  const count = Math.min(u16(ifd), MAX_ENTRIES);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > tiff.length) break;
    const name = tags[u16(e)];
    if (!name || u16(e + 2) !== ASCII) continue;
    const n = u32(e + 4);
    const at = n <= 4 ? e + 8 : u32(e + 8);
    if (at + n > tiff.length) continue;
    // EXIF ASCII is NUL-terminated; withExif writes the value back as ASCII.
    const value = tiff.subarray(at, at + n).toString('latin1').replace(/\0+$/, '').replace(/[^\x20-\x7e]/g, '');
    if (value !== '') out[name] = value;
  }
  return out;
}
