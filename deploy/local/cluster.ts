/**
 * The pieces of a pixproxy cluster on one machine, on loopback: a Swift SAIO as the shared L2
 * (scripts/swift-saio.sh), pixproxy instances as processes of their own, and nginx in front
 * (./nginx-config.ts). `npm run cluster:up` (./main.ts) starts them detached and records their
 * PIDs; the cluster test (test/cluster/) starts them as its children and kills them by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { reapChild, reapWhenGone } from '../../test/helpers/reaper.js';
import { createSwiftContainer, freePort, startSwift, type SwiftServer } from '../../test/integration/storage/servers.js';
import { nginxMainConf, type NginxSite } from './nginx-config.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The shared L2: a Swift SAIO with one container, and the variables that point pixproxy at it. */
export interface SharedStore {
  swift: SwiftServer;
  container: string;
  env: Record<string, string>;
}

/** `detached`: the SAIO outlives the caller (`cluster:up`); otherwise it dies with it, even on SIGKILL. */
export async function startSharedStore(container = 'pixproxy', opts: { detached?: boolean } = {}): Promise<SharedStore> {
  const swift = await startSwift(opts);
  try {
    await createSwiftContainer(swift, container);
  } catch (err) {
    await swift.stop();
    throw err;
  }
  return {
    swift,
    container,
    env: {
      IMGPROXY_CACHE_USE: 'swift',
      IMGPROXY_CACHE_BUCKET: container,
      IMGPROXY_CACHE_SWIFT_AUTH_URL: swift.authUrl,
      IMGPROXY_CACHE_SWIFT_USERNAME: swift.username,
      IMGPROXY_CACHE_SWIFT_API_KEY: swift.apiKey,
    },
  };
}

export interface Instance {
  readonly pid: number;
  readonly port: number;
  /** `127.0.0.1:port`, as nginx names it (and its `X-Upstream` header shows it). */
  readonly address: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

export interface InstanceOptions {
  /** Added to the cluster defaults (loopback bind, metrics on the main port, warn logs). */
  env: Record<string, string>;
  /** stdout and stderr go there. */
  logFile: string;
  /** Outlives the caller (`cluster:up`); otherwise a child killed with it. */
  detached?: boolean;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts `node --import tsx src/main.ts` on a free loopback port; resolves once /health answers. */
export async function startInstance(o: InstanceOptions): Promise<Instance> {
  const port = await freePort();
  const log = openSync(o.logFile, 'a');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    IMGPROXY_BIND: `127.0.0.1:${port}`,
    IMGPROXY_LOG_LEVEL: 'warn',
    PIXPROXY_METRICS_ON_MAIN_PORT: 'true',
    ...o.env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', log, log], detached: o.detached ?? false });
  closeSync(log);
  // Detached (`cluster:up`): outlives this process; otherwise killed with it, even on SIGKILL.
  if (o.detached) child.unref();
  else reapChild(child);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  while (!(await answers(`${url}/health`))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pixproxy exited (${child.exitCode ?? child.signalCode}) before answering; see ${o.logFile}`);
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`pixproxy did not answer on ${url} within 60 s; see ${o.logFile}`);
    }
    await sleep(100);
  }
  return { pid: child.pid ?? 0, port, address: `127.0.0.1:${port}`, url, child, exited };
}

export interface Balancer {
  readonly pid: number;
  readonly dir: string;
  readonly child: ChildProcess;
  /** Rewrites the configuration and has nginx load it (SIGHUP), e.g. with an instance added. */
  reload(sites: readonly NginxSite[]): Promise<void>;
  stop(): Promise<void>;
}

/** Starts nginx in the foreground with a config of its own in `dir`; resolves once every site listens. */
export async function startBalancer(dir: string, sites: readonly NginxSite[], detached = false): Promise<Balancer> {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxMainConf(dir, sites));
  const log = openSync(join(dir, 'nginx.out'), 'a');
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', log, log], detached });
  closeSync(log);
  // TERM: nginx's fast shutdown, which also ends its workers (a SIGKILLed master leaves them).
  if (detached) child.unref();
  else if (child.pid !== undefined) {
    const reaper = reapWhenGone(['kill', '-TERM', String(child.pid)]);
    child.once('exit', () => reaper.cancel());
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const until = Date.now() + 20_000;
  for (const s of sites) {
    // Any answer (the instances may not be up yet) proves nginx listens.
    const url = `http://${s.listen.includes(':') ? s.listen : `127.0.0.1:${s.listen}`}/metrics`;
    while (!(await fetch(url).then(() => true, () => false))) {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}; see ${dir}/error.log`);
      if (Date.now() > until) throw new Error(`nginx does not listen on ${s.listen}; see ${dir}/error.log`);
      await sleep(50);
    }
  }
  return {
    pid: child.pid ?? 0,
    dir,
    child,
    async reload(next) {
      writeFileSync(conf, nginxMainConf(dir, next));
      process.kill(child.pid ?? 0, 'SIGHUP');
      // New workers take the new configuration; the old ones finish their requests and leave.
      await sleep(500);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGQUIT');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
