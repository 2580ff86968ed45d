import { gzipSync } from 'node:zlib';
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

  it('on <image>: keeps raster data: and relative, drops file:, http(s) and network-path', async () => {
    const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#0000ff' } }).png().toBuffer();
    const dataUri = `data:image/png;base64,${png.toString('base64')}`;
    const out = sanitized(
      `<image href="file:///etc/passwd"/><image xlink:href="http://evil.example/a.png"/><image href="//evil.example/b.png"/>` +
        `<image href="img/ok.png"/><image width="40" height="40" href="${dataUri}"/>`,
    );
    expect(out).not.toMatch(/passwd|evil/);
    expect(out).toContain('href="img/ok.png"');
    expect(out).toContain(dataUri);
  });

  it('on <image>: sanitises an SVG data: image as a document of its own (base64, gzipped or percent-encoded; W3C conform-viewers-02-f)', async () => {
    const inner = svg(`${RECT}<script>alert(1)</script><image href="http://evil.example/x.png"/>`);
    const embedded = (uri: string): string => sanitized(`<image width="40" height="40" href="${uri}"/>`);
    const innerOf = (out: string): string => {
      const m = /href="data:image\/svg\+xml;base64,([^"]*)"/.exec(out);
      expect(m).not.toBeNull();
      return Buffer.from(m?.[1] ?? '', 'base64').toString('utf8');
    };
    const forms = [`data:image/svg+xml;base64,${inner.toString('base64')}`, `data:image/svg+xml;base64,${gzipSync(inner).toString('base64')}`, `data:image/svg+xml;charset=utf-8,${encodeURIComponent(inner.toString())}`];
    for (const uri of forms) {
      const doc = innerOf(embedded(uri));
      expect(doc).toContain(RECT);
      expect(doc).not.toMatch(/script|alert|evil/);
    }
    expect(await centrePixel(Buffer.from(embedded(forms[1] ?? '')))).toEqual([255, 0, 0]);
    // Unreadable, malformed or nested too deep: the href goes, the document stays.
    expect(embedded('data:image/svg+xml;base64,PHN2Zz48Zz48L3N2Zz4=')).toContain('<image width="40" height="40"/>');
    expect(embedded('data:image/svg+xml,%E0%A4%A')).toContain('<image width="40" height="40"/>');
    const gzipBomb = gzipSync(Buffer.concat([Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">'), Buffer.alloc(11 * 1024 * 1024, 0x20), Buffer.from('</svg>')]));
    expect(embedded(`data:image/svg+xml;base64,${gzipBomb.toString('base64')}`)).toContain('<image width="40" height="40"/>');
    const nest = (doc: Buffer): Buffer => svg(`<image width="40" height="40" href="data:image/svg+xml;base64,${doc.toString('base64')}"/>`);
    expect(innerOf(innerOf(sanitizeSvg(nest(nest(svg(RECT)))).toString()))).toContain(RECT);
    expect(innerOf(innerOf(sanitizeSvg(nest(nest(nest(svg(RECT))))).toString()))).toContain('<image width="40" height="40"/>');
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

  describe('internal entities holding markup (expanded as libxml2 does, then sanitised)', () => {
    const doc = (decls: string, body: string): Buffer =>
      Buffer.from(`<?xml version="1.0"?><!DOCTYPE svg [${decls}]><svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">${body}</svg>`);
    const out = (decls: string, body: string): string => sanitizeSvg(doc(decls, body)).toString('utf8');

    it('expands a markup entity and renders as librsvg renders the original', async () => {
      const input = doc(`<!ENTITY Square "<rect width='40' height='40' fill='#ff0000'/>">`, '<g>&Square;</g>');
      const text = sanitizeSvg(input).toString('utf8');
      expect(text).not.toMatch(/DOCTYPE|ENTITY|&Square;/);
      expect(text).toContain(`<g><rect width='40' height='40' fill='#ff0000'/></g>`);
      expect(await centrePixel(Buffer.from(text))).toEqual([255, 0, 0]);
      expect(await centrePixel(Buffer.from(text))).toEqual(await centrePixel(input));
    });

    it('decodes character references of the literal first, so &#60; in a value is markup too', () => {
      const text = out(`<!ENTITY s "&#60;script&#62;alert(1)&#60;/script&#62;<rect width='1' height='1'/>"><!ENTITY less "a &#38;#60; b">`, '&s;<text>&less;</text>');
      expect(text).not.toMatch(/script|alert/);
      expect(text).toContain(`<rect width='1' height='1'/><text>a &#60; b</text>`);
    });

    it('removes a <script> held by an entity, as outside one', () => {
      const text = out(`<!ENTITY s "<script>alert(1)</script><svg:script xmlns:svg='http://www.w3.org/2000/svg'>alert(2)</svg:script>${RECT.replace(/"/g, "'")}">`, '&s;');
      expect(text).not.toMatch(/script|alert/i);
      expect(text).toContain("<rect id='r'");
    });

    it('removes an on* handler or a javascript: link held by an entity, in markup or in an attribute', () => {
      const text = out(
        `<!ENTITY r "<rect width='1' height='1' onload='alert(1)' fill='red'/>"><!ENTITY js "javascript:alert(2)"><!ENTITY h "alert(3)">`,
        '&r;<a href="&js;"><rect width="1" height="1" onclick="&h;"/></a><set attributeName="href" to="&js;"/>',
      );
      expect(text).not.toMatch(/alert|onload|onclick|javascript|<set/);
      expect(text).toContain("<rect width='1' height='1' fill='red'/><a><rect width=\"1\" height=\"1\"/></a>");
    });

    it('expands nested entities, in markup and in attributes', async () => {
      const text = out(
        `<!ENTITY red "#ff0000"><!ENTITY paint "&red;"><!ENTITY shape "<rect width='40' height='40' fill='&paint;'/>"><!ENTITY group "<g id='g'>&shape;</g>">`,
        '&group;<circle r="1" fill="&paint;"/>',
      );
      expect(text).toContain(`<g id='g'><rect width='40' height='40' fill='#ff0000'/></g><circle r="1" fill="#ff0000"/>`);
      expect(await centrePixel(Buffer.from(text))).toEqual([255, 0, 0]);
    });

    it('refuses a replacement that is not well-formed where it is used', () => {
      expectUnsupported(() => sanitizeSvg(doc(`<!ENTITY open "<g>">`, '&open;</g>')));
      expectUnsupported(() => sanitizeSvg(doc(`<!ENTITY close "</g>">`, '<g>&close;')));
      expectUnsupported(() => sanitizeSvg(doc(`<!ENTITY d "<!DOCTYPE x>">`, '&d;')));
      expectUnsupported(() => sanitizeSvg(doc(`<!ENTITY x "<?xml version='1.0'?>">`, '&x;')));
      expectUnsupported(() => sanitizeSvg(doc(`<!ENTITY amp2 "&amp">`, '<text>&amp2;</text>')));
      // XML's "No < in Attribute Values" holds for what an entity puts there.
      expectUnsupported(() => sanitizeSvg(doc(`<!ENTITY m "<rect/>">`, '<rect width="1" height="1" fill="&m;"/>')));
    });

    it('refuses recursion, nesting deeper than 20 and nested expansion over 5 times the document', () => {
      expectUnsupported(() => sanitizeSvg(doc('<!ENTITY a "&b;"><!ENTITY b "<g>&a;</g>">', '&a;')));
      expectUnsupported(() => sanitizeSvg(doc('<!ENTITY a "x&a;">', '<rect width="1" height="1" class="&a;"/>')));
      const chain = (n: number): string => ['<!ENTITY e0 "<g/>">', ...Array.from({ length: n }, (_, i) => `<!ENTITY e${i + 1} "&e${i};">`)].join('');
      expect(out(chain(19), '&e19;')).toContain('<g/>');
      expectUnsupported(() => sanitizeSvg(doc(chain(20), '&e20;')));
      // Empty entities multiply work, not output: each reference costs libxml2's 20 too.
      const empty = ['<!ENTITY z0 "">', ...Array.from({ length: 6 }, (_, i) => `<!ENTITY z${i + 1} "${`&z${i};`.repeat(10)}">`)].join('');
      expectUnsupported(() => sanitizeSvg(doc(empty, '<text>&z6;</text>')));
      // A markup bomb, and a bomb in an attribute: the document goes, not only the attribute.
      const laughs = ['<!ENTITY l0 "<g/>">', ...Array.from({ length: 6 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`)].join('');
      expectUnsupported(() => sanitizeSvg(doc(laughs, '&l6;')));
      const words = ['<!ENTITY w0 "lol">', ...Array.from({ length: 6 }, (_, i) => `<!ENTITY w${i + 1} "${`&w${i};`.repeat(10)}">`)].join('');
      expectUnsupported(() => sanitizeSvg(doc(words, '<rect width="1" height="1" class="&w6;"/>')));
      expectUnsupported(() => sanitizeSvg(doc(words, '<rect width="1" height="1" class="&w6;"/>'), { maxBytes: 0 }));
    });

    it('refuses external and parameter entities, in text and in attributes', () => {
      expectUnsupported(() => sanitizeSvg(doc('<!ENTITY x PUBLIC "-//x//EN" "http://evil.example/x.xml">', '<text>&x;</text>')));
      expectUnsupported(() => sanitizeSvg(doc('<!ENTITY x SYSTEM "file:///etc/passwd">', '<text x="&x;">t</text>')));
      expectUnsupported(() => sanitizeSvg(doc('<!ENTITY x SYSTEM "logo.png" NDATA png>', '<text>&x;</text>')));
      // A parameter entity is never expanded: neither in a value nor as declarations.
      expectUnsupported(() => sanitizeSvg(doc(`<!ENTITY % p "<rect/>"><!ENTITY e "%p;">`, '&e;')));
      expectUnsupported(() => sanitizeSvg(doc(`<!ENTITY % d "<!ENTITY e '<rect/>'>"> %d;`, '&e;')));
      expectUnsupported(() => sanitizeSvg(doc('<!ENTITY % ext SYSTEM "http://evil.example/x.dtd"> %ext;', '<text>&fromDtd;</text>')));
    });

    it('keeps the whitespace boundary of an element it drops inside <text> (W3C interact-order-06-t)', async () => {
      const input = svg('<text x="0" y="30" font-size="20">\n  <handler type="text/ecmascript">alert(1)</handler>\n  Hi\n</text>');
      const text = sanitizeSvg(input).toString('utf8');
      expect(text).not.toMatch(/handler|alert/);
      expect(text).toContain('<desc/>');
      const render = (b: Buffer): Promise<Buffer> => sharp(b).raw().toBuffer();
      expect((await render(Buffer.from(text))).equals(await render(input))).toBe(true);
    });
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
