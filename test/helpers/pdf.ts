/**
 * Writes small PDFs by hand for tests (ISO 32000-1: objects, a cross-reference table, a
 * trailer): pages of given sizes filled with one colour each, a page that draws an image
 * XObject of any claimed size (a decompression bomb when the size is large: its Flate stream
 * is a few kilobytes), and a page tree that counts any number of pages.
 */
import { deflateSync } from 'node:zlib';

export interface PdfPageSpec {
  /** Points. */
  width: number;
  height: number;
  /** 0–1 each. */
  rgb: [number, number, number];
}

function assemble(objects: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n', 'latin1')];
  let at = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(at);
    const body = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), typeof o === 'string' ? Buffer.from(o, 'latin1') : o, Buffer.from('\nendobj\n', 'latin1')]);
    parts.push(body);
    at += body.length;
  });
  const xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${at}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts);
}

const stream = (dict: string, data: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`<< ${dict} /Length ${data.length} >>\nstream\n`, 'latin1'), data, Buffer.from('\nendstream', 'latin1')]);

/** One page per spec, each filled with its colour. */
export function writePdf(pages: readonly PdfPageSpec[]): Buffer {
  const objects: (string | Buffer)[] = ['<< /Type /Catalog /Pages 2 0 R >>', ''];
  const kids: string[] = [];
  for (const p of pages) {
    const pageId = objects.length + 1;
    kids.push(`${pageId} 0 R`);
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${p.width} ${p.height}] /Contents ${pageId + 1} 0 R /Resources << >> >>`);
    objects.push(stream('', Buffer.from(`${p.rgb.join(' ')} rg 0 0 ${p.width} ${p.height} re f\n`, 'latin1')));
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages.length} >>`;
  return assemble(objects);
}

/** A 100×100 pt page drawing one grey image XObject of `width` × `height` pixels, all zeros. */
export function pdfWithImage(width: number, height: number): Buffer {
  const pixels = deflateSync(Buffer.alloc(width * height), { level: 9 });
  return assemble([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R /Resources << /XObject << /Im0 5 0 R >> >> >>',
    stream('', Buffer.from('q 100 0 0 100 0 0 cm /Im0 Do Q\n', 'latin1')),
    stream(`/Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode`, pixels),
  ]);
}

/** A page tree of `count` pages, every kid the same small page (a few bytes per page). */
export function pdfManyPages(count: number): Buffer {
  return assemble([
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${'3 0 R '.repeat(count)}] /Count ${count} >>`,
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Resources << >> >>',
  ]);
}
