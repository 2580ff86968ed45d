/**
 * The local cluster recipe, one command each way:
 *
 *   npm run cluster:up [-- --instances 3 --port 18080 --lease --round-robin]
 *   npm run cluster:down
 *   npx tsx deploy/local/main.ts nginx-conf [--write]    # deploy/nginx/pixproxy.conf
 *
 * `up` starts a Swift SAIO (the shared L2), N pixproxy instances and nginx with consistent
 * hashing in front, all on 127.0.0.1 and detached, writes their PIDs to .cache/cluster/state.json
 * and prints where to look; `down` stops exactly those PIDs. A demo image is served through
 * `local:///demo.jpg` (no network needed). See docs/scaling.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { ROOT, startBalancer, startInstance, startSharedStore } from './cluster.js';
import { composeNginxConf, type NginxSite } from './nginx-config.js';

const DIR = join(ROOT, '.cache/cluster');
const STATE = join(DIR, 'state.json');
const COMPOSE_CONF = join(ROOT, 'deploy/nginx/pixproxy.conf');

interface State {
  saioDir: string;
  instances: { pid: number; port: number }[];
  nginx: { pid: number; dir: string };
  port: number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function up(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { instances: { type: 'string', default: '3' }, port: { type: 'string', default: '18080' }, lease: { type: 'boolean', default: false }, 'round-robin': { type: 'boolean', default: false } } });
  if (existsSync(STATE)) {
    const old = JSON.parse(readFileSync(STATE, 'utf8')) as State;
    if ([old.nginx.pid, ...old.instances.map((i) => i.pid)].some(alive)) {
      process.stderr.write(`cluster: already up (${STATE}); npm run cluster:down first\n`);
      return 1;
    }
  }
  const count = Number(values.instances);
  const port = Number(values.port);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write('cluster: --instances and --port take positive integers\n');
    return 2;
  }
  rmSync(DIR, { recursive: true, force: true });
  const www = join(DIR, 'www');
  mkdirSync(www, { recursive: true });
  await sharp({ create: { width: 1600, height: 1200, channels: 3, background: { r: 40, g: 120, b: 200 } } })
    .composite([{ input: Buffer.from('<svg width="1600" height="1200"><circle cx="800" cy="600" r="400" fill="orange"/></svg>') }])
    .jpeg()
    .toFile(join(www, 'demo.jpg'));
  process.stderr.write('cluster: starting the Swift SAIO (shared L2)…\n');
  const store = await startSharedStore('pixproxy', { detached: true });
  const instances = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      startInstance({
        env: {
          ...store.env,
          IMGPROXY_LOCAL_FILESYSTEM_ROOT: www,
          PP_CACHE_DIR: join(DIR, `instance-${i + 1}`),
          PIXPROXY_DRAIN_SECS: '2',
          ...(values.lease ? { PIXPROXY_CACHE_LEASE: 'true' } : {}),
        },
        logFile: join(DIR, `instance-${i + 1}.log`),
        detached: true,
      }),
    ),
  );
  const site: NginxSite = { name: 'pixproxy', listen: `127.0.0.1:${port}`, balance: values['round-robin'] ? 'round-robin' : 'hash', servers: instances.map((i) => i.address), debugHeader: true };
  const nginx = await startBalancer(join(DIR, 'nginx'), [site], true);
  const state: State = { saioDir: store.swift.dir, instances: instances.map((i) => ({ pid: i.pid, port: i.port })), nginx: { pid: nginx.pid, dir: nginx.dir }, port };
  writeFileSync(STATE, JSON.stringify(state, null, 2));
  const base = `http://127.0.0.1:${port}`;
  process.stdout.write(
    [
      `cluster up: nginx ${base} (${site.balance}) → ${instances.map((i) => i.url).join(', ')}`,
      `shared L2: swift ${store.swift.endpoint}, container ${store.container}${values.lease ? ', PIXPROXY_CACHE_LEASE=true' : ''}`,
      `try:     curl -sD - -o /dev/null '${base}/insecure/rs:fit:300:300/plain/local:///demo.jpg@webp'   (X-Cache, X-Upstream)`,
      `metrics: ${instances.map((i) => `${i.url}/metrics`).join(' ')}`,
      `logs:    ${DIR}/instance-*.log, ${nginx.dir}/error.log`,
      'stop:    npm run cluster:down',
      '',
    ].join('\n'),
  );
  return 0;
}

async function stopPid(pid: number, signal: NodeJS.Signals, waitMs: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, signal);
  const until = Date.now() + waitMs;
  while (alive(pid) && Date.now() < until) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

async function down(): Promise<number> {
  if (!existsSync(STATE)) {
    process.stderr.write(`cluster: not up (no ${STATE})\n`);
    return 0;
  }
  const state = JSON.parse(readFileSync(STATE, 'utf8')) as State;
  await stopPid(state.nginx.pid, 'SIGQUIT', 5000);
  // SIGTERM: each drains (PIXPROXY_DRAIN_SECS=2), finishes what is in flight and exits.
  await Promise.all(state.instances.map((i) => stopPid(i.pid, 'SIGTERM', 30_000)));
  spawnSync(join(ROOT, 'scripts/swift-saio.sh'), ['stop', state.saioDir], { stdio: 'inherit' });
  rmSync(state.saioDir, { recursive: true, force: true });
  rmSync(STATE);
  process.stdout.write(`cluster down: stopped nginx ${state.nginx.pid}, instances ${state.instances.map((i) => i.pid).join(', ')}, the SAIO\n`);
  return 0;
}

function nginxConf(args: string[]): number {
  const text = composeNginxConf();
  if (!args.includes('--write')) {
    process.stdout.write(text);
    return 0;
  }
  writeFileSync(COMPOSE_CONF, text);
  process.stderr.write(`wrote ${COMPOSE_CONF}\n`);
  return 0;
}

const [command = '', ...rest] = process.argv.slice(2);
const run: Record<string, () => Promise<number> | number> = { up: () => up(rest), down, 'nginx-conf': () => nginxConf(rest) };
const fn = run[command];
if (!fn) {
  process.stderr.write('usage: tsx deploy/local/main.ts up [--instances N] [--port P] [--lease] [--round-robin] | down | nginx-conf [--write]\n');
  process.exit(2);
}
Promise.resolve(fn()).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cluster: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
