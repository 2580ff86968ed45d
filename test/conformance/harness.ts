/**
 * Shared machinery of the conformance suites (imgproxy's and PreviewProxy's own tests, ported
 * case by case): how a case is declared (`ported`, `gap`, `differs`), one pool of real
 * servers per test file keyed by environment, GET over loopback, and image inspection by
 * size, format, interpretation and pixels — never bytes.
 *
 * A `gap` is an upstream case pixproxy does not meet today. It runs as `it.fails`, so the
 * suite stays green while the gap is open and turns red the moment the behaviour is fixed:
 * whoever fixes it flips `gap` to `ported`. A `differs` case is a deliberate difference (we
 * keep our behaviour because the peer's would be less safe or less correct): it asserts ours,
 * and is listed with its reason in the suite's README.
 */
import { afterAll, it, type TestContext } from 'vitest';
import sharp from 'sharp';
import { startApp, type RunningApp } from '../helpers/app.js';

type Body = (ctx: TestContext) => Promise<void> | void;

/** A case that passes today, named after the upstream test (`TestX/sub`, `test_parse_width`). */
export function ported(name: string, fn: Body, timeout?: number): void {
  it(name, fn, timeout);
}

/**
 * An upstream case we fail today. `why` says what we answer against what the peer answers,
 * e.g. `origin 304 → we answer 404, imgproxy 304`.
 */
export function gap(why: string, name: string, fn: Body, timeout?: number): void {
  // CONFORMANCE_SHOW_GAPS=1 runs gaps as plain cases, so each shows why it fails today
  // (a gap that fails for another reason than its `why` is a broken case).
  if (process.env.CONFORMANCE_SHOW_GAPS) it(`${name} [gap: ${why}]`, fn, timeout);
  else it.fails(`${name} [gap: ${why}]`, fn, timeout);
}

/** A deliberate difference: asserts our behaviour; `why` says why the peer's is less safe or wrong. */
export function differs(why: string, name: string, fn: Body, timeout?: number): void {
  it(`${name} [deliberate difference: ${why}]`, fn, timeout);
}

/** `gap` when `why` is given, else `ported`: for table cases of which only some fail. */
export function port(name: string, why: string | undefined, fn: Body, timeout?: number): void {
  if (why === undefined) ported(name, fn, timeout);
  else gap(why, name, fn, timeout);
}

/**
 * Servers for one test file, one per distinct environment, started on first use and all
 * stopped after the file. The upstream suites reconfigure one server per case; a pool
 * gives the same isolation without a start per case.
 */
export interface ServerPool {
  get(env?: Record<string, string>): Promise<RunningApp>;
}

export function serverPool(base: () => Record<string, string>): ServerPool {
  const running = new Map<string, Promise<RunningApp>>();
  afterAll(async () => {
    const apps = await Promise.allSettled(running.values());
    await Promise.all(apps.map((a) => (a.status === 'fulfilled' ? a.value.stop() : undefined)));
  });
  return {
    get(env = {}) {
      const full = { ...base(), ...env };
      const key = JSON.stringify(Object.entries(full).sort(([a], [b]) => a.localeCompare(b)));
      let app = running.get(key);
      if (!app) running.set(key, (app = startApp(full)));
      return app;
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

export async function get(app: RunningApp | string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const base = typeof app === 'string' ? app : app.url;
  const res = await fetch(`${base}${path}`, { headers, method, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** Throws with the body when the status is not `expected`, so a failure says why. */
export function expectStatus(reply: Reply, expected: number, path = ''): void {
  if (reply.status !== expected) {
    throw new Error(`expected ${expected}, got ${reply.status} for ${path}: ${reply.body.subarray(0, 300).toString()}`);
  }
}

export interface ImageInfo {
  format: string;
  width: number;
  height: number;
  channels: number;
  hasAlpha: boolean;
  interpretation: string;
  pages: number;
}

export async function inspect(image: Buffer): Promise<ImageInfo> {
  const m = await sharp(image, { pages: 1 }).metadata();
  return {
    format: m.format ?? 'unknown',
    width: m.width ?? 0,
    height: m.pageHeight ?? m.height ?? 0,
    channels: m.channels ?? 0,
    hasAlpha: m.hasAlpha ?? false,
    interpretation: m.space ?? 'unknown',
    pages: m.pages ?? 1,
  };
}

export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/** Decoded first-frame pixels as 8-bit RGBA, with a reader by coordinate. */
export async function pixels(image: Buffer): Promise<{ width: number; height: number; at(x: number, y: number): Rgba }> {
  const { data, info } = await sharp(image, { pages: 1 }).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    at(x, y) {
      const i = (Math.min(Math.max(y, 0), info.height - 1) * info.width + Math.min(Math.max(x, 0), info.width - 1)) * 4;
      return { r: data[i] ?? 0, g: data[i + 1] ?? 0, b: data[i + 2] ?? 0, a: data[i + 3] ?? 0 };
    },
  };
}

/** True when every channel of `p` is within `tol` of `want` (alpha too when given). */
export function near(p: Rgba, want: Partial<Rgba>, tol = 24): boolean {
  return (['r', 'g', 'b', 'a'] as const).every((k) => want[k] === undefined || Math.abs(p[k] - (want[k] ?? 0)) <= tol);
}
