import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/errors.js';
import { loadConfig } from '../../../src/config/index.js';
import { sanitizeSvg, svgSanitizeOptions } from '../../../src/processing/svg-sanitize.js';

const svg = (body: string, head = ''): Buffer =>
  Buffer.from(`${head}<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="40" viewBox="0 0 40 40">${body}</svg>`);

const RECT = '<rect id="r" x="0" y="0" width="40" height="40" fill="#ff0000"/>';

async function centrePixel(buf: Buffer): Promise<number[]> {
  const { data } = await sharp(buf).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (20 * 40 + 20) * 3;
  return [data[i] ?? -1, data[i + 1] ?? -1, data[i + 2] ?? -1];
}

function sanitized(body: string, head = ''): string {
  return sanitizeSvg(svg(body, head)).toString('utf8');
}

function expectUnsupported(fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ProxyError);
  expect((err as ProxyError).code).toBe('UNSUPPORTED_IMAGE');
  expect((err as ProxyError).status).toBe(422);
}

describe('sanitizeSvg', () => {
  it('keeps a clean document byte for byte', () => {
    const input = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<svg xmlns="http://www.w3.org/2000/svg"  width=\'10\' height="10"><g fill="url(#g)"><path d="M0 0h10v10z"/>&amp;&#x41;<![CDATA[ x < y ]]></g></svg>\n');
    expect(sanitizeSvg(input).equals(input)).toBe(true);
  });

  it('removes <script> (any prefix or case) and keeps the drawing', async () => {
    const input = svg(`${RECT}<script>alert(1)</script><svg:script xmlns:svg="http://www.w3.org/2000/svg">alert(2)</svg:script><SCRIPT/>`);
    const out = sanitizeSvg(input).toString();
    expect(out).not.toMatch(/script|alert/i);
    expect(out).toContain(RECT);
    expect(await centrePixel(sanitizeSvg(input))).toEqual(await centrePixel(input));
    expect(await centrePixel(sanitizeSvg(input))).toEqual([255, 0, 0]);
  });

  it('removes every on* event attribute but keeps the element', () => {
    const out = sanitized(`<rect width="40" height="40" onload="alert(1)" ONCLICK='x()' onmouseover="y()" fill="#00ff00"/>`);
    expect(out).not.toMatch(/on(load|click|mouseover)/i);
    expect(out).toContain('<rect width="40" height="40" fill="#00ff00"/>');
  });

  it('keeps <foreignObject> and its HTML (as imgproxy does) but removes <iframe> and <form> with their subtrees', async () => {
    const input = svg(`${RECT}<foreignObject width="40" height="40"><body xmlns="http://www.w3.org/1999/xhtml"><p>hi</p><iframe src="http://x"/></body></foreignObject><iframe/><form action="http://x"><input/></form>`);
    const out = sanitizeSvg(input);
    expect(out.toString()).toContain('<foreignObject width="40" height="40"><body xmlns="http://www.w3.org/1999/xhtml"><p>hi</p></body></foreignObject>');
    expect(out.toString()).not.toMatch(/iframe|form|input/i);
    expect(await centrePixel(out)).toEqual([255, 0, 0]);
  });

  it('inside <foreignObject>, drops what fetches by itself (img src/srcset, video poster, object data, link, meta) and keeps links', () => {
    const out = sanitized(
      `<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src="http://evil.example/a.png" srcset="http://evil.example/b.png 2x" alt="x"/><img src="#local"/>` +
        `<video poster="https://evil.example/p.png"/><object data="https://evil.example/o"/><link rel="stylesheet" href="https://evil.example/s.css"/>` +
        `<meta http-equiv="refresh" content="0;url=https://evil.example/"/><div style="background:url(https://evil.example/bg.png)">t</div><table background="https://evil.example/t.png"/>` +
        `<a href="https://example.com/ok" ping="https://evil.example/ping">link</a></div></foreignObject>`,
    );
    expect(out).not.toContain('evil.example');
    expect(out).toContain('<img alt="x"/>');
    expect(out).toContain('<img src="#local"/>');
    expect(out).toContain('<a href="https://example.com/ok">link</a>');
  });

  it('<a href>: keeps http(s), relative and protocol-relative links (imgproxy\'s rule), drops other schemes; other elements keep fragments only', () => {
    const out = sanitized('<a href="https://example.com/x"/><a href="http://example.com/"/><a href="rel/x.svg"/><a href="/abs"/><a href="//cdn.example/x"/><a href="javascript:alert(1)"/><a href="java&#x09;script:alert(1)"/><a href="data:text/html,x"/><pattern href="https://evil.example/p.svg#p"/><linearGradient href="//evil.example/g.svg#g"/>');
    expect(out).toContain('<a href="https://example.com/x"/><a href="http://example.com/"/><a href="rel/x.svg"/><a href="/abs"/><a href="//cdn.example/x"/><a/><a/><a/><pattern/><linearGradient/>');
  });

  it('an attribute with an undeclared entity (HTML\'s &colon;) is dropped, not the document', () => {
    const out = sanitized('<a href="javascript&colon;alert(1)"><rect width="1" height="1" title="a&nbsp;b"/></a>');
    expect(out).toContain('<a><rect width="1" height="1"/></a>');
  });

  it('keeps only fragment hrefs on <use>', async () => {
    const out = sanitized(`<defs>${RECT}</defs><use xlink:href="#r"/><use xlink:href="http://evil.example/x.svg#r"/><use href=" https://evil.example/a.svg#r"/>`);
    expect(out).toContain('<use xlink:href="#r"/>');
    expect(out).not.toContain('evil');
    expect((out.match(/<use/g) ?? []).length).toBe(3);
    expect(await centrePixel(Buffer.from(out))).toEqual([255, 0, 0]);
  });

  it('on <image>: keeps raster data: and relative, drops file:, http(s), network-path and data:svg', async () => {
    const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#0000ff' } }).png().toBuffer();
    const dataUri = `data:image/png;base64,${png.toString('base64')}`;
    const out = sanitized(
      `<image href="file:///etc/passwd"/><image xlink:href="http://evil.example/a.png"/><image href="//evil.example/b.png"/>` +
        `<image href="data:image/svg+xml;base64,PHN2Zy8+"/><image href="img/ok.png"/><image width="40" height="40" href="${dataUri}"/>`,
    );
    expect(out).not.toMatch(/passwd|evil|svg\+xml/);
    expect(out).toContain('href="img/ok.png"');
    expect(out).toContain(dataUri);
  });

  it('drops javascript: links even when obfuscated with entities and whitespace', () => {
    const out = sanitized(`<a href="jav&#x09;ascript:alert(1)">${RECT}</a><a xlink:href="JAVASCRIPT:alert(2)"/><a href="#ok"/>`);
    expect(out).not.toMatch(/alert/);
    expect(out).toContain('<a href="#ok"/>');
    expect(out).toContain(RECT);
  });

  it('drops animations that rewrite href, xml:base and external CSS urls', () => {
    const out = sanitized(
      `<a href="#x"><set attributeName="href" to="javascript:alert(1)"/><animate attributeName="xlink:href" values="x"/></a>` +
        `<g xml:base="http://evil.example/"><rect style="fill:url(http://evil.example/f.svg#p);stroke:red" width="1" height="1"/></g>` +
        `<style>@import url(http://evil.example/a.css); rect { fill: url('https://evil.example/x') } .k{fill:url(#g)}</style>`,
    );
    expect(out).not.toMatch(/evil|javascript|<set|<animate/);
    expect(out).toContain('stroke:red');
    expect(out).toContain('url(#g)');
  });

  it('strips the DOCTYPE, expands plain internal entities (Illustrator style) and refuses external ones', async () => {
    const head = '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [<!ENTITY fill "#ff0000">]>';
    const out = sanitizeSvg(Buffer.from(`${head}<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="&fill;"/></svg>`));
    expect(out.toString()).not.toMatch(/DOCTYPE|ENTITY/);
    expect(out.toString()).toContain('fill="#ff0000"');
    expect(await centrePixel(out)).toEqual([255, 0, 0]);

    expectUnsupported(() => sanitizeSvg(Buffer.from('<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>')));
  });

  it('refuses a billion-laughs entity bomb', () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
      '<svg xmlns="http://www.w3.org/2000/svg"><text>&lol3;</text></svg>';
    expectUnsupported(() => sanitizeSvg(Buffer.from(bomb)));
    // A bomb that is declared but never used is harmless once the DOCTYPE is gone.
    const unused = bomb.replace('&lol3;', 'ok');
    expect(sanitizeSvg(Buffer.from(unused)).toString()).toBe('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><text>ok</text></svg>');
  });

  it('caps entity expansion growth at the size limit', () => {
    const doc = `<!DOCTYPE s [<!ENTITY a "${'x'.repeat(1000)}">]><svg xmlns="http://www.w3.org/2000/svg"><text>${'&a;'.repeat(200)}</text></svg>`;
    expectUnsupported(() => sanitizeSvg(Buffer.from(doc), { maxBytes: 10_000 }));
    expect(sanitizeSvg(Buffer.from(doc), { maxBytes: 0 }).length).toBeGreaterThan(200_000);
  });

  it('cleans CSS inside CDATA without breaking the section', () => {
    const out = sanitized('<style><![CDATA[@import url(http://evil.example/a.css)]]></style><style><![CDATA[ .a{fill:url(https://evil.example/p)} ]]></style>');
    expect(out).not.toContain('evil');
    expect(out).toContain('<style><![CDATA[]]></style><style><![CDATA[ .a{fill:none} ]]></style>');
  });

  it('takes its size limit from IMGPROXY_SVG_UNLIMITED', () => {
    expect(svgSanitizeOptions(loadConfig({}))).toEqual({ maxBytes: 10 * 1024 * 1024 });
    expect(svgSanitizeOptions(loadConfig({ IMGPROXY_SVG_UNLIMITED: 'true' }))).toEqual({ maxBytes: 0 });
  });

  it('removes <?xml-stylesheet?> processing instructions', () => {
    const out = sanitizeSvg(Buffer.from('<?xml version="1.0"?><?xml-stylesheet href="http://evil.example/s.css"?><svg xmlns="http://www.w3.org/2000/svg"/>')).toString();
    expect(out).toBe('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>');
  });

  it('rejects malformed XML and oversized input with 422', () => {
    for (const bad of ['<svg><g></svg>', '<svg a=1/>', '<svg a="1" a="2"/>', 'not xml', '<svg/><svg/>', '<svg>&nope;</svg>', '<svg><!-- x </svg>', '']) {
      expectUnsupported(() => sanitizeSvg(Buffer.from(bad)));
    }
    expectUnsupported(() => sanitizeSvg(svg(RECT), { maxBytes: 50 }));
    expect(sanitizeSvg(svg(RECT), { maxBytes: 10_000 }).toString()).toContain(RECT);
    expectUnsupported(() => sanitizeSvg(Buffer.from([0x3c, 0x73, 0x76, 0x67, 0xff, 0x2f, 0x3e])));
  });

  it('converts a Latin-1 document to UTF-8 and says so in the declaration', () => {
    const input = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><svg xmlns="http://www.w3.org/2000/svg"><text>caf'), Buffer.from([0xe9]), Buffer.from('</text></svg>')]);
    const out = sanitizeSvg(input).toString('utf8');
    expect(out).toContain('encoding="UTF-8"');
    expect(out).toContain('café');
  });
});
