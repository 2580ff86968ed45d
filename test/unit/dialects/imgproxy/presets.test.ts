import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/config/fields.js';
import { createImgproxyDialect, loadPresets } from '../../../../src/dialects/imgproxy/index.js';
import type { ProcessingOptions } from '../../../../src/options.js';
import { config, expectProxyError } from '../../../helpers/dialects.js';

const SRC = 'plain/http://e.com/a.jpg';

function dialectWith(env: Record<string, string>, readFile?: (p: string) => string) {
  const d = createImgproxyDialect(config(env), readFile ? { readFile } : {});
  return (opts: string, headers = {}): ProcessingOptions => d.parseImage(`/unsafe/${opts}${opts ? '/' : ''}${SRC}`, headers).options;
}

describe('presets', () => {
  const p = dialectWith({ IMGPROXY_PRESETS: 'default=q:70/sm:0, thumb=rs:fill:100:100/g:sm ,big=w:1000/pr:thumb' });

  it('applies the default preset to every request and records it', () => {
    const o = p('');
    expect(o).toMatchObject({ quality: 70, stripMetadata: false, usedPresets: ['default'] });
  });

  it('expands presets in place: later URL options win, earlier ones lose', () => {
    expect(p('w:5/pr:thumb')).toMatchObject({ width: 100, resizingType: 'fill', gravity: { type: 'sm' } });
    expect(p('pr:thumb/w:5')).toMatchObject({ width: 5, height: 100 });
    expect(p('q:90').quality).toBe(90);
  });

  it('nested presets, several names in one option, usedPresets in order', () => {
    const o = p('preset:big');
    expect(o).toMatchObject({ width: 100, height: 100 });
    expect(o.usedPresets).toEqual(['default', 'big', 'thumb']);
    expect(p('pr:thumb:big').usedPresets).toEqual(['default', 'thumb', 'big', 'thumb']);
  });

  it('unknown preset → 404', () => {
    expect(expectProxyError(() => p('pr:nope'), 404, 'INVALID_URL').message).toMatch(/Unknown preset/);
  });

  it('recursion is detected and skipped', () => {
    const r = dialectWith({ IMGPROXY_PRESETS: 'a=w:10/pr:b,b=h:20/pr:a' });
    const o = r('pr:a');
    expect(o).toMatchObject({ width: 10, height: 20 });
    expect(o.usedPresets).toEqual(['a', 'b']);
    const self = dialectWith({ IMGPROXY_PRESETS: 'default=q:50/pr:default' });
    expect(self('').usedPresets).toEqual(['default']);
  });

  it('uses IMGPROXY_PRESETS_SEPARATOR', () => {
    const s = dialectWith({ IMGPROXY_PRESETS: 'a=w:10;b=h:20', IMGPROXY_PRESETS_SEPARATOR: ';' });
    expect(s('pr:a:b')).toMatchObject({ width: 10, height: 20 });
  });

  it('reads IMGPROXY_PRESETS_PATH with comments and blank lines, merged with IMGPROXY_PRESETS', () => {
    const file = '# thumbnails\n\nthumb=rs:fit:50:50\r\n  # indented comment\nsharp=sh:1\n';
    const f = dialectWith({ IMGPROXY_PRESETS_PATH: '/presets.txt', IMGPROXY_PRESETS: 'q=q:42' }, (path) => {
      expect(path).toBe('/presets.txt');
      return file;
    });
    expect(f('pr:thumb:sharp:q')).toMatchObject({ width: 50, sharpen: 1, quality: 42 });
  });

  it('client features come before the default preset, which comes before URL options', () => {
    const c = dialectWith({ IMGPROXY_PRESETS: 'default=dpr:3', IMGPROXY_ENABLE_CLIENT_HINTS: 'true' });
    expect(c('', { 'sec-ch-dpr': '2' }).dpr).toBe(3);
    expect(c('dpr:1.5', { 'sec-ch-dpr': '2' }).dpr).toBe(1.5);
  });
});

describe('presets-only mode', () => {
  const env = { IMGPROXY_ONLY_PRESETS: 'true', IMGPROXY_PRESETS: 'default=q:60,thumb=rs:fill:100:100,blurry=bl:5' };
  const d = createImgproxyDialect(config(env));

  it('first segment is a list of presets', () => {
    const r = d.parseImage('/unsafe/thumb:blurry/plain/http://e.com/a.jpg@webp', {});
    expect(r.source).toBe('http://e.com/a.jpg');
    expect(r.options).toMatchObject({ quality: 60, width: 100, blur: 5, format: 'webp', usedPresets: ['default', 'thumb', 'blurry'] });
  });

  it('options are not accepted as such', () => {
    expectProxyError(() => d.parseImage('/unsafe/w:100/plain/http://e.com/a.jpg', {}), 404, 'INVALID_URL');
    expectProxyError(() => d.parseImage('/unsafe/thumb:nope/plain/http://e.com/a.jpg', {}), 404, 'INVALID_URL');
  });
});

describe('preset validation at startup', () => {
  const invalid: [string, Record<string, string>, RegExp][] = [
    ['bad option', { IMGPROXY_PRESETS: 'ok=w:1,broken=w:abc' }, /IMGPROXY_PRESETS.*"broken"/],
    ['unknown option', { IMGPROXY_PRESETS: 'x=foo:1' }, /"x".*Unknown processing option/],
    ['unknown nested preset', { IMGPROXY_PRESETS: 'x=pr:y' }, /"x".*Unknown preset/],
    ['no =', { IMGPROXY_PRESETS: 'thumb' }, /IMGPROXY_PRESETS/],
    ['two =', { IMGPROXY_PRESETS: 'a=b=c' }, /IMGPROXY_PRESETS/],
    ['empty name', { IMGPROXY_PRESETS: '=w:1' }, /empty preset name/],
    ['empty value', { IMGPROXY_PRESETS: 'a=' }, /empty value for preset "a"/],
    ['segment without args', { IMGPROXY_PRESETS: 'a=w:1/plain' }, /preset "a"/],
    ['security option', { IMGPROXY_PRESETS: 'a=mrd:100' }, /"a".*IMGPROXY_ALLOW_SECURITY_OPTIONS/],
  ];
  it.each(invalid)('%s → ConfigError naming it', (_name, env, re) => {
    expect(() => loadPresets(config(env))).toThrow(ConfigError);
    expect(() => createImgproxyDialect(config(env))).toThrow(re);
  });

  it('file errors name IMGPROXY_PRESETS_PATH', () => {
    expect(() => loadPresets(config({ IMGPROXY_PRESETS_PATH: '/does/not/exist' }))).toThrow(/IMGPROXY_PRESETS_PATH/);
    expect(() => loadPresets(config({ IMGPROXY_PRESETS_PATH: '/p' }), () => 'x=w:-1')).toThrow(/IMGPROXY_PRESETS_PATH: invalid preset "x"/);
  });

  it('a valid set loads', () => {
    const presets = loadPresets(config({ IMGPROXY_PRESETS: 'a=w:1/h:2, # comment , b=pr:a' }));
    expect([...presets.keys()]).toEqual(['a', 'b']);
    expect(presets.get('a')).toEqual([{ name: 'w', args: ['1'] }, { name: 'h', args: ['2'] }]);
  });
});
