/**
 * Baseline peer: the Next.js 16 image optimizer (`/_next/image`), what a Next.js site uses
 * instead of an image proxy (https://nextjs.org/docs/app/api-reference/components/image).
 * It fetches the source from the same loopback origin, transforms it with sharp and keeps
 * the result in its disk cache (`.next/cache/images`), so a repeated URL is its cache hit.
 *
 * A minimal app (one page) is written into `bench/.cache/next-app/` (inside bench/, so it
 * resolves `next` and `react` from bench/node_modules), built once with `next build` when
 * its config changed, and served with `next start`. Next only answers widths from its
 * `deviceSizes`/`imageSizes` and qualities from `images.qualities`, so a miss varies the
 * source URL, not the size. Its image cache is emptied at every start.
 *
 * usage: node --import tsx bench/baselines/next-server.ts <port> <origin-port>
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const port = Number(process.argv[2]);
const originPort = Number(process.argv[3]);
const bench = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(bench, '.cache', 'next-app');
const nextBin = join(bench, 'node_modules', 'next', 'dist', 'bin', 'next');
if (!existsSync(nextBin)) {
  process.stderr.write('next is not installed: npm run bench installs bench/package.json\n');
  process.exit(2);
}

// Widths the bench asks for (hit: 300; miss: 640); q=80 as pixproxy's default quality.
const config = `// written by bench/baselines/next-server.ts
module.exports = {
  images: {
    remotePatterns: [{ protocol: 'http', hostname: '127.0.0.1', port: '${originPort}' }],
    // Next 16 refuses sources on private addresses unless told; the origin is on loopback.
    dangerouslyAllowLocalIP: true,
    deviceSizes: [640, 1080],
    imageSizes: [300],
    qualities: [80],
    minimumCacheTTL: 31536000,
  },
};
`;
mkdirSync(join(app, 'pages'), { recursive: true });
const configFile = join(app, 'next.config.js');
const stale = !existsSync(configFile) || readFileSync(configFile, 'utf8') !== config || !existsSync(join(app, '.next', 'BUILD_ID'));
writeFileSync(join(app, 'package.json'), '{ "private": true }\n');
writeFileSync(join(app, 'pages', 'index.js'), "export default function Home() { return 'ok'; }\n");
if (stale) {
  writeFileSync(configFile, config);
  const built = spawnSync(process.execPath, [nextBin, 'build'], { cwd: app, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
rmSync(join(app, '.next', 'cache', 'images'), { recursive: true, force: true });

const child = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
  cwd: app,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
