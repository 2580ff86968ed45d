/**
 * imgproxy's processing/suite_test.go and testutil/servertest: a real server whose local
 * filesystem root holds the test images, with security options allowed and imgproxy's
 * test limits; `process` GETs `/unsafe/<options>/plain/local:///<image>` and expects 200,
 * `check` asserts the result's size and interpretation as `processImageAndCheck` does.
 * Its golden hashes cannot be reused; each test file asserts what its hash stood for.
 */
import { beforeAll, expect } from 'vitest';
import { fixturesRoot } from '../fixtures.js';
import { expectStatus, get, inspect, serverPool, type ImageInfo, type Interpretation, type Reply } from '../harness.js';

export interface ProcessingSuite {
  root(): string;
  /** The result image of `options` on `image` (a path under the fixtures root); fails unless 200. */
  process(options: string, image: string, env?: Record<string, string>, headers?: Record<string, string>): Promise<Buffer>;
  /** A raw GET against the suite's server for `env`. */
  request(path: string, env?: Record<string, string>, headers?: Record<string, string>): Promise<Reply>;
  /** Result size (and interpretation when given), as imgproxy's `processImageAndCheck`. */
  check(result: Buffer, width: number, height: number, interpretation?: Interpretation): Promise<ImageInfo>;
}

/** testutil/servertest's configuration, as environment. */
export function servertestEnv(root: string): Record<string, string> {
  return {
    IMGPROXY_LOCAL_FILESYSTEM_ROOT: root,
    IMGPROXY_DEVELOPMENT_ERRORS_MODE: 'true',
    IMGPROXY_ALLOW_SECURITY_OPTIONS: 'true',
    IMGPROXY_MAX_SRC_RESOLUTION: '50',
    IMGPROXY_MAX_SRC_FILE_SIZE: String(10 * 1024 * 1024),
    IMGPROXY_MAX_ANIMATION_FRAMES: '100',
    IMGPROXY_MAX_ANIMATION_FRAME_RESOLUTION: String((10 * 1024 * 1024) / 1e6),
  };
}

export function processingSuite(): ProcessingSuite {
  let root = '';
  beforeAll(async () => {
    root = await fixturesRoot();
  }, 300_000);
  const servers = serverPool(() => servertestEnv(root));
  return {
    root: () => root,
    async process(options, image, env = {}, headers = {}) {
      const path = `/unsafe/${options}/plain/local:///${image}`;
      const reply = await get(await servers.get(env), path, headers);
      expectStatus(reply, 200, path);
      return reply.body;
    },
    async request(path, env = {}, headers = {}) {
      return get(await servers.get(env), path, headers);
    },
    async check(result, width, height, interpretation) {
      const info = await inspect(result);
      expect({ width: info.width, height: info.height }).toEqual({ width, height });
      if (interpretation !== undefined && interpretation !== 'multiband') expect(info.interpretation).toBe(interpretation);
      return info;
    },
  };
}
