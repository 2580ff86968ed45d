// Fonts of text watermarks: the bundled DejaVu files, a font file's family and line height,
// and PreviewProxy's lookup with its fallback to the bundled font.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bundledFont, bundledFontFiles, findFont, readFontFile } from '../../../src/processing/fonts.js';

describe('fonts', () => {
  it('ships the DejaVu families, each with four faces', async () => {
    const files = bundledFontFiles();
    expect(files).toHaveLength(12);
    for (const f of files) expect((await readFile(f)).length).toBeGreaterThan(100_000);
  });

  it('reads the family and the line height per em from the font file', async () => {
    const f = await bundledFont();
    expect(f.family).toBe('DejaVu Sans');
    // DejaVu Sans: ascent 1901, descent −483, 2048 units per em.
    expect(f.lineToEm).toBeCloseTo((1901 + 483) / 2048, 6);
    const serif = bundledFontFiles().find((p) => p.endsWith('DejaVuSerif-Bold.ttf')) as string;
    expect(readFontFile(serif, await readFile(serif)).family).toBe('DejaVu Serif');
  });

  it('refuses what is not a TrueType/OpenType font', () => {
    expect(() => readFontFile('x', Buffer.from('not a font at all, not at all'))).toThrow(/not a TrueType/);
    const truncated = Buffer.alloc(28);
    truncated.writeUInt32BE(0x00010000, 0);
    truncated.writeUInt16BE(1, 4);
    truncated.write('head', 12, 'latin1');
    truncated.writeUInt32BE(1000, 20);
    truncated.writeUInt32BE(54, 24);
    expect(() => readFontFile('x', truncated)).toThrow(/truncated/);
  });

  it('sans, an empty name, a name with a path in it and a name not found are the bundled font', async () => {
    const sans = await bundledFont();
    for (const name of ['sans', 'SANS', '', '../etc/passwd', 'a/b', 'a\\b', 'no-such-font-anywhere']) expect(await findFont(name), name).toBe(sans);
  });
});
