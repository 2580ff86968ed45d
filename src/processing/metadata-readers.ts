/**
 * Readers for the metadata blocks sharp hands out as raw buffers (EXIF, Photoshop IRB with
 * IPTC-IIM, XMP), turned into the JSON shapes of imgproxy's /info. All input is untrusted:
 * every reader bounds-checks and a block it cannot read yields nothing rather than an error,
 * so broken metadata never fails an otherwise readable image.
 */
import exifReader from 'exif-reader';
import { decodeXmlText, lexXml } from './xml-lexer.js';

// ---------------------------------------------------------------------------------------
// EXIF

/** Descriptive names (libexif's, which imgproxy prints) for the common tags. */
const EXIF_TITLES: Readonly<Record<string, string>> = {
  ImageDescription: 'Image Description', Make: 'Manufacturer', Model: 'Model', Orientation: 'Orientation',
  XResolution: 'X-Resolution', YResolution: 'Y-Resolution', ResolutionUnit: 'Resolution Unit', Software: 'Software',
  DateTime: 'Date and Time', Artist: 'Artist', Copyright: 'Copyright', ExposureTime: 'Exposure Time', FNumber: 'F-Number',
  ExposureProgram: 'Exposure Program', ISOSpeedRatings: 'ISO Speed Ratings', ExifVersion: 'Exif Version',
  DateTimeOriginal: 'Date and Time (Original)', DateTimeDigitized: 'Date and Time (Digitized)',
  ShutterSpeedValue: 'Shutter Speed', ApertureValue: 'Aperture', BrightnessValue: 'Brightness',
  ExposureBiasValue: 'Exposure Bias', MaxApertureValue: 'Maximum Aperture Value', MeteringMode: 'Metering Mode',
  LightSource: 'Light Source', Flash: 'Flash', FocalLength: 'Focal Length', ColorSpace: 'Color Space',
  PixelXDimension: 'Pixel X Dimension', PixelYDimension: 'Pixel Y Dimension', ExposureMode: 'Exposure Mode',
  WhiteBalance: 'White Balance', FocalLengthIn35mmFilm: 'Focal Length in 35mm Film', SceneCaptureType: 'Scene Capture Type',
  Contrast: 'Contrast', Saturation: 'Saturation', Sharpness: 'Sharpness', LensModel: 'Lens Model', LensMake: 'Lens Make',
  BodySerialNumber: 'Serial Number', GPSLatitude: 'Latitude', GPSLongitude: 'Longitude', GPSAltitude: 'Altitude',
  GPSLatitudeRef: 'North or South Latitude', GPSLongitudeRef: 'East or West Longitude', YCbCrPositioning: 'YCbCr Positioning',
};

function exifDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}:${p(d.getUTCMonth() + 1)}:${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function exifValue(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v.replace(/\0+$/, '');
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 10_000) / 10_000);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : exifDate(v);
  if (Buffer.isBuffer(v)) {
    // Short printable blobs (versions, user comments); binary ones (maker notes) are skipped.
    const s = v.toString('latin1').replace(/\0+$/, '');
    return v.length <= 256 && /^[\x20-\x7e]*$/.test(s) ? s : undefined;
  }
  if (Array.isArray(v)) {
    const parts = v.map(exifValue);
    return parts.every((p) => p !== undefined) ? parts.join(', ') : undefined;
  }
  return undefined;
}

/** EXIF block (as sharp returns it, starting with "Exif\0\0") → tag name → text. */
export function readExif(buf: Buffer | undefined, canonicalNames: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (!buf || buf.length < 8) return out;
  let parsed: ReturnType<typeof exifReader>;
  try {
    parsed = exifReader(buf);
  } catch {
    return out;
  }
  for (const section of [parsed.Image, parsed.Photo, parsed.GPSInfo, parsed.Iop]) {
    if (!section) continue;
    for (const [tag, value] of Object.entries(section)) {
      const text = exifValue(value);
      if (text === undefined) continue;
      out[canonicalNames ? tag : (EXIF_TITLES[tag] ?? tag)] = text;
    }
  }
  return out;
}

/** IFD0 tags carried over to the output: Artist and Copyright, and with metadata kept a few descriptive ones. */
const COPYRIGHT_TAGS = ['Artist', 'Copyright'] as const;
const DESCRIPTIVE_TAGS = [...COPYRIGHT_TAGS, 'ImageDescription', 'Make', 'Model', 'Software', 'DateTime'] as const;

/**
 * The few textual IFD0 tags the pipeline writes back (`all`: the descriptive ones too). Why
 * only these: the pipeline goes through raw pixel buffers between steps, so sharp's keepExif()
 * has nothing to keep at encode time; sharp writes EXIF only from string pairs (withExif), as
 * printable ASCII. Binary, GPS and sub-IFD tags are not carried over.
 */
export function exifText(buf: Buffer | undefined, all: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (!buf || buf.length < 8) return out;
  let image: Record<string, unknown> | undefined;
  try {
    image = exifReader(buf).Image;
  } catch {
    return out;
  }
  for (const tag of all ? DESCRIPTIVE_TAGS : COPYRIGHT_TAGS) {
    const value = image?.[tag];
    const text = typeof value === 'string' || value instanceof Date ? exifValue(value)?.replace(/[^\x20-\x7e]/g, '') : undefined;
    if (text) out[tag] = text;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Photoshop IRB + IPTC-IIM

/** Record 2 datasets, with IPTC's names as imgproxy prints them. */
const IPTC_NAMES: Readonly<Record<number, string>> = {
  5: 'Name', 7: 'Edit Status', 10: 'Urgency', 15: 'Category', 20: 'Supplemental Categories', 25: 'Keywords',
  40: 'Special Instructions', 55: 'Date Created', 60: 'Time Created', 80: 'Creator', 85: 'Creator\'s Job Title',
  90: 'City', 92: 'Sublocation', 95: 'Province/State', 100: 'Country Code', 101: 'Country',
  103: 'Job Identifier', 105: 'Headline', 110: 'Credit Line', 115: 'Source', 116: 'Copyright Notice',
  118: 'Contact', 120: 'Caption', 122: 'Caption Writer',
};
/** Datasets that may repeat: always arrays. */
const IPTC_REPEATABLE = new Set([20, 25, 80, 85, 118, 122]);

const RES_UNITS: Readonly<Record<number, string>> = { 1: 'inches', 2: 'cm' };
const SIZE_UNITS: Readonly<Record<number, string>> = { 1: 'inches', 2: 'cm', 3: 'points', 4: 'picas', 5: 'columns' };

export interface IptcResult {
  iptc: Record<string, string | string[]>;
  photoshop: { resolution: Record<string, number | string> } | null;
}

/** Photoshop image resource block (or bare IIM) → IPTC fields and resolution info. */
export function readIptc(buf: Buffer | undefined): IptcResult {
  const res: IptcResult = { iptc: {}, photoshop: null };
  if (!buf || buf.length === 0) return res;
  let p = buf.subarray(0, 14).toString('latin1') === 'Photoshop 3.0\0' ? 14 : 0;
  if (buf[p] === 0x1c) {
    readIim(buf.subarray(p), res.iptc);
    return res;
  }
  while (p + 12 <= buf.length && buf.toString('latin1', p, p + 4) === '8BIM') {
    const id = buf.readUInt16BE(p + 4);
    const nameLen = buf[p + 6] ?? 0;
    let q = p + 6 + 1 + nameLen;
    if ((q - p) % 2 === 1) q++; // Pascal name padded to an even length
    if (q + 4 > buf.length) break;
    const size = buf.readUInt32BE(q);
    const start = q + 4;
    const end = start + size;
    if (end > buf.length) break;
    if (id === 0x0404) readIim(buf.subarray(start, end), res.iptc);
    if (id === 0x03ed && size >= 16) {
      res.photoshop = {
        resolution: {
          XResolution: buf.readUInt32BE(start) / 65536,
          XResolutionUnit: RES_UNITS[buf.readUInt16BE(start + 4)] ?? 'unknown',
          WidthUnit: SIZE_UNITS[buf.readUInt16BE(start + 6)] ?? 'unknown',
          YResolution: buf.readUInt32BE(start + 8) / 65536,
          YResolutionUnit: RES_UNITS[buf.readUInt16BE(start + 12)] ?? 'unknown',
          HeightUnit: SIZE_UNITS[buf.readUInt16BE(start + 14)] ?? 'unknown',
        },
      };
    }
    p = end + (size % 2);
  }
  return res;
}

function readIim(buf: Buffer, out: Record<string, string | string[]>): void {
  let p = 0;
  while (p + 5 <= buf.length && buf[p] === 0x1c) {
    const record = buf[p + 1] ?? 0;
    const dataset = buf[p + 2] ?? 0;
    const len = buf.readUInt16BE(p + 3);
    // Extended lengths (bit 15) are only used for huge binary datasets: stop there.
    if (len & 0x8000) return;
    const start = p + 5;
    const end = start + len;
    if (end > buf.length) return;
    const name = record === 2 ? IPTC_NAMES[dataset] : undefined;
    if (name) {
      const value = buf.toString('utf8', start, end).replace(/\0+$/, '');
      const prev = out[name];
      if (IPTC_REPEATABLE.has(dataset)) out[name] = Array.isArray(prev) ? [...prev, value] : [value];
      else out[name] = value;
    }
    p = end;
  }
}

// ---------------------------------------------------------------------------------------
// XMP

type XmpValue = string | XmpValue[] | { [k: string]: XmpValue };
interface XNode {
  name: string;
  attrs: Record<string, string>;
  children: XNode[];
  text: string;
}

/** XMP packet → { prefix: { Property: value } }, arrays for rdf:Bag/Seq/Alt. */
export function readXmp(buf: Buffer | undefined): Record<string, Record<string, XmpValue>> {
  const out: Record<string, Record<string, XmpValue>> = {};
  if (!buf || buf.length === 0) return out;
  let root: XNode;
  try {
    root = buildTree(buf.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    return out;
  }
  const set = (qname: string, value: XmpValue): void => {
    const i = qname.indexOf(':');
    if (i <= 0) return;
    const prefix = qname.slice(0, i);
    (out[prefix] ??= {})[qname.slice(i + 1)] = value;
  };
  const visit = (n: XNode): void => {
    if (n.name === 'rdf:Description') {
      for (const [k, v] of Object.entries(n.attrs)) if (!k.startsWith('xmlns') && !k.startsWith('rdf:') && !k.startsWith('xml:')) set(k, v);
      for (const c of n.children) set(c.name, xmpValue(c));
      return;
    }
    n.children.forEach(visit);
  };
  visit(root);
  return out;
}

function xmpValue(n: XNode): XmpValue {
  const container = n.children.find((c) => c.name === 'rdf:Bag' || c.name === 'rdf:Seq' || c.name === 'rdf:Alt');
  if (container) return container.children.filter((c) => c.name === 'rdf:li').map(xmpValue);
  const struct = n.children.find((c) => c.name === 'rdf:Description');
  const fields = struct ? [...Object.entries(struct.attrs).map(([k, v]) => ({ name: k, attrs: {}, children: [], text: v })), ...struct.children] : n.children;
  if (fields.length > 0 || (n.attrs['rdf:parseType'] === 'Resource' && n.children.length > 0)) {
    const obj: Record<string, XmpValue> = {};
    for (const c of fields) if (!c.name.startsWith('xmlns') && c.name !== 'rdf:about') obj[c.name.replace(/^[^:]*:/, '')] = xmpValue(c);
    return obj;
  }
  return n.attrs['rdf:resource'] ?? n.text.trim();
}

function buildTree(s: string): XNode {
  const top: XNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XNode[] = [top];
  for (const t of lexXml(s)) {
    const cur = stack[stack.length - 1] ?? top;
    if (t.kind === 'open') {
      const node: XNode = { name: t.name, attrs: {}, children: [], text: '' };
      for (const a of t.attrs) node.attrs[a.name] = decodeXmlText(a.raw);
      cur.children.push(node);
      if (!t.selfClosing) stack.push(node);
    } else if (t.kind === 'close') {
      stack.pop();
    } else if (t.kind === 'text') {
      cur.text += decodeXmlText(s.slice(t.start, t.end));
    } else if (t.kind === 'cdata') {
      cur.text += s.slice(t.start + 9, t.end - 3);
    }
  }
  return top;
}
