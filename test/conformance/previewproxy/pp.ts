/**
 * What the PreviewProxy suite adds to the shared harness (`../harness.ts`): servers in the
 * PreviewProxy path dialect, its JSON error answers, and its signing and URL-encryption
 * algorithms written out here from its source, so a case checks our verifier and decryptor
 * against PreviewProxy's algorithm rather than against our own code:
 *
 * - canonical string and HMAC: `TransformParams::canonical_string` in
 *   https://github.com/ViGrise/previewproxy/blob/main/src/modules/proxy/dto/params.rs and
 *   `src/modules/security/hmac.rs` (HMAC-SHA256 over the UTF-8 key, base64url, no padding);
 * - `enc/` blobs: `src/modules/security/encryption.rs` (AES-CBC/PKCS#7, IV =
 *   HMAC-SHA256(key, url)[0..16], blob = base64url(IV ‖ ciphertext)).
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { get, serverPool, type Reply, type ServerPool } from '../harness.js';
import { startHandlerOrigin, startOrigin, type HandlerOrigin, type Origin, type OriginFile } from '../../helpers/origin.js';

export { get, type Reply };

/** A server pool whose servers speak PreviewProxy's path dialect (and `/proxy?url=`). */
export function ppServers(base: () => Record<string, string> = () => ({})): ServerPool {
  return serverPool(() => ({ PIXPROXY_PATH_DIALECT: 'previewproxy', ...base() }));
}

/** PreviewProxy's error body (`src/common/errors/mod.rs`): `{"error": code, "detail"?: text}`. */
export interface PpErrorBody {
  error: string;
  detail?: string;
}

export function ppError(reply: Reply): PpErrorBody | undefined {
  try {
    const j = JSON.parse(reply.body.toString('utf8')) as unknown;
    if (j && typeof j === 'object' && typeof (j as { error?: unknown }).error === 'string') return j as PpErrorBody;
  } catch {
    // not JSON
  }
  return undefined;
}

/**
 * PreviewProxy's answer for an error variant: its status, its JSON code, and (where the
 * upstream test pins the message) a detail containing that message.
 */
export function expectPpError(reply: Reply, status: number, error: string, detail?: string): void {
  const body = ppError(reply);
  const seen = `${reply.status} ${reply.headers.get('content-type') ?? ''} ${reply.body.subarray(0, 200).toString()}`;
  expect(reply.status, seen).toBe(status);
  expect(body?.error, seen).toBe(error);
  if (detail !== undefined) expect(body?.detail ?? '', seen).toContain(detail);
}

/** Throws with the body unless the status is `expected`. */
export function expectOk(reply: Reply, expected = 200): void {
  if (reply.status !== expected) throw new Error(`expected ${expected}, got ${reply.status}: ${reply.body.subarray(0, 300).toString()}`);
}

/** `encodeURIComponent` for a `url=` value. */
export const enc = encodeURIComponent;

/** PreviewProxy's typed parameters, as `TransformParams` holds them. */
export interface PpParamValues {
  w?: number;
  h?: number;
  fit?: string;
  format?: string;
  q?: number;
  rotate?: number;
  flip?: string;
  blur?: number;
  grayscale?: boolean;
  seek?: { abs: number } | { ratio: number } | 'auto';
  bright?: number;
  contrast?: number;
  wm?: string;
  wm_opacity?: number;
  wm_pos?: string;
  wm_x?: number;
  wm_y?: number;
  wm_scale?: number;
  wmt?: string;
  wmt_color?: string;
  wmt_size?: number;
  wmt_font?: string;
  gif_anim?: 'all' | { from: number } | { range: [number, number] } | { last: number };
  gif_af?: boolean;
}

/**
 * `TransformParams::canonical_string`: `k=v` in its fixed order, joined by `&`, then `:` and
 * the resolved URL. Floats print as Rust's `Display` (for the values these tests use, the
 * same digits as JS `String`), wm_opacity and wm_scale with `{:.4}`.
 */
export function ppCanonical(p: PpParamValues, url: string): string {
  const parts: string[] = [];
  const add = (k: string, v: string | number | undefined) => {
    if (v !== undefined) parts.push(`${k}=${v}`);
  };
  add('blur', p.blur);
  add('bright', p.bright);
  add('contrast', p.contrast);
  add('fit', p.fit);
  add('flip', p.flip);
  add('format', p.format);
  if (p.gif_af === true) parts.push('gif_af=1');
  if (p.gif_anim !== undefined) {
    const g = p.gif_anim;
    add('gif_anim', g === 'all' ? 'all' : 'from' in g ? g.from : 'range' in g ? `${g.range[0]}-${g.range[1]}` : `-${g.last}`);
  }
  if (p.grayscale !== undefined) add('grayscale', p.grayscale ? 1 : 0);
  add('h', p.h);
  add('q', p.q);
  add('rotate', p.rotate);
  if (p.seek !== undefined) add('seek', p.seek === 'auto' ? 'auto' : 'abs' in p.seek ? p.seek.abs : `${p.seek.ratio}r`);
  add('w', p.w);
  add('wm', p.wm);
  add('wm_opacity', p.wm_opacity?.toFixed(4));
  add('wm_pos', p.wm_pos);
  add('wm_x', p.wm_x);
  add('wm_y', p.wm_y);
  add('wm_scale', p.wm_scale?.toFixed(4));
  add('wmt', p.wmt);
  add('wmt_color', p.wmt_color);
  add('wmt_size', p.wmt_size);
  add('wmt_font', p.wmt_font);
  return `${parts.join('&')}:${url}`;
}

/** `hmac::sign`: HMAC-SHA256 keyed with the key's UTF-8 bytes, base64url without padding. */
export function ppSign(key: string, message: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('base64url');
}

const aes = (key: Uint8Array): string => `aes-${key.length * 8}-cbc`;

/** `encryption::encrypt`. */
export function ppEncrypt(key: Uint8Array, url: string): string {
  const iv = createHmac('sha256', key).update(url, 'utf8').digest().subarray(0, 16);
  const c = createCipheriv(aes(key), key, iv);
  return Buffer.concat([iv, c.update(url, 'utf8'), c.final()]).toString('base64url');
}

/** `encryption::decrypt` (happy path only: the tests compare its result). */
export function ppDecrypt(key: Uint8Array, blob: string): string {
  const raw = Buffer.from(blob, 'base64url');
  const d = createDecipheriv(aes(key), key, raw.subarray(0, 16));
  return Buffer.concat([d.update(raw.subarray(16)), d.final()]).toString('utf8');
}

/** The 32-byte key PreviewProxy's tests use (`b"0123…901"`), and as PP_SOURCE_URL_ENCRYPTION_KEY. */
export const KEY_32 = Buffer.from('01234567890123456789012345678901', 'latin1');
export const KEY_16 = Buffer.from('0123456789012345', 'latin1');
export const hex = (key: Uint8Array): string => Buffer.from(key).toString('hex');

export { startHandlerOrigin, startOrigin, type HandlerOrigin, type Origin, type OriginFile };

/**
 * A loopback origin serving `files`, started before the calling describe block's cases and
 * closed after them; its fields are read once it runs.
 */
export function useOrigin(files: () => Promise<Record<string, OriginFile>>): Origin {
  let o: Origin | undefined;
  beforeAll(async () => {
    o = await startOrigin(await files());
  });
  afterAll(async () => o?.close());
  const running = (): Origin => {
    if (!o) throw new Error('origin not started yet');
    return o;
  };
  return {
    get url() {
      return running().url;
    },
    get port() {
      return running().port;
    },
    get requests() {
      return running().requests;
    },
    get files() {
      return running().files;
    },
    get hits() {
      return running().hits;
    },
    count: (path) => running().count(path),
    close: () => running().close(),
  };
}

/** A temp folder filled by `fill` before the calling describe block's cases, removed after. */
export function useTempDir(prefix: string, fill: (dir: string) => Promise<void>): { readonly path: string } {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    await fill(dir);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get path() {
      if (!dir) throw new Error('temp folder not made yet');
      return dir;
    },
  };
}

/** Polls `check` (a cache write happens after the answer) for up to `ms`. */
export async function eventually(check: () => Promise<boolean>, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}
