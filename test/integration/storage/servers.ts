/**
 * Real storage servers for the integration tests, on 127.0.0.1, started by the tests and
 * stopped by the PID they hold: Swift SAIO (also S3 through s3api), Azurite, and the
 * firebase-tools Storage emulator in-process. No backend is mocked. The SAIO and Azurite die
 * with the test run even when it is SIGKILLed (a watchdog, test/helpers/reaper.ts: the SAIO's
 * `swift-saio.sh stop`, Azurite by PID); the GCS emulator lives in the test's own process.
 *
 * Locally a backend whose binaries are missing is skipped with the reason; with CI set it
 * is a failure (`requireOrSkip`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { reapChild, reapWhenGone } from '../../helpers/reaper.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const require = createRequire(import.meta.url);

export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
export const GCS_PROJECT = 'demo-test';

/** Why a backend cannot run here, or undefined when it can. */
export function missingReason(kind: 'swift' | 'azurite' | 'gcs'): string | undefined {
  if (kind === 'swift') {
    const need = ['/usr/bin/swift-proxy-server', '/usr/bin/swift-object-server', '/usr/bin/swift-container-server', '/usr/bin/swift-account-server', '/usr/bin/memcached', '/usr/bin/python3'];
    const absent = need.filter((p) => !existsSync(p));
    return absent.length ? `Swift SAIO needs ${absent.join(', ')} (apt packages in scripts/ci-packages.txt)` : undefined;
  }
  if (kind === 'azurite') {
    return existsSync(join(ROOT, 'node_modules/azurite/dist/src/blob/main.js')) ? undefined : 'azurite is not installed (test/backends/package.json; `npm test` or `npm run test:deps` installs it)';
  }
  try {
    require.resolve('firebase-tools/lib/emulator/storage/index.js');
    return undefined;
  } catch {
    return 'firebase-tools is not installed (test/backends/package.json; `npm test` or `npm run test:deps` installs it; its Storage emulator is the GCS test server)';
  }
}

/** Skip reason for describe.skipIf, or throws under CI: a missing backend must fail there. */
export function requireOrSkip(kind: 'swift' | 'azurite' | 'gcs'): string | undefined {
  const reason = missingReason(kind);
  if (reason && process.env.CI) throw new Error(`CI: backend ${kind} is required but unavailable: ${reason}`);
  return reason;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child && child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((res) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        res(true);
      });
      c.once('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.once('error', rej);
    p.once('close', (code) => res({ code: code ?? 1, out }));
  });
}

export interface SwiftServer {
  /** `http://127.0.0.1:PORT`: Swift API and S3 (s3api) on the same port. */
  endpoint: string;
  /** The SAIO's directory: its data, logs and `pids` (one PID a line), for `swift-saio.sh stop DIR`. */
  dir: string;
  authUrl: string;
  username: string;
  apiKey: string;
  s3: { accessKeyId: string; secretAccessKey: string; region: string };
  startMs: number;
  stop(): Promise<void>;
}

/**
 * Starts a Swift SAIO with scripts/swift-saio.sh; ~3–5 s. It is stopped when this process (or
 * its parent, vitest's main process) exits without calling stop(), unless `detached` (the
 * local cluster's `cluster:up`, whose SAIO outlives the command and is stopped by `cluster:down`).
 */
export async function startSwift(opts: { detached?: boolean } = {}): Promise<SwiftServer> {
  const dir = await mkdtemp(join(tmpdir(), 'pixproxy-saio-'));
  const started = Date.now();
  // The script needs PORT, +120..+122 and +3131 free; parallel test files pick differently.
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const all = [port, port + 120, port + 121, port + 122, port + 3131];
    if (!(await Promise.all(all.map(portFree))).every(Boolean)) continue;
    // Armed before the start: the script's servers are up before it returns.
    const reaper = opts.detached ? undefined : reapWhenGone(['/bin/sh', '-c', '"$0" stop "$1"; rm -rf "$1"', join(ROOT, 'scripts/swift-saio.sh'), dir]);
    const r = await run(join(ROOT, 'scripts/swift-saio.sh'), ['start', dir, String(port)]);
    if (r.code !== 0) {
      reaper?.cancel();
      await run(join(ROOT, 'scripts/swift-saio.sh'), ['stop', dir]);
      if (/Address already in use|did not start/i.test(r.out) && attempt < 19) continue;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`swift-saio.sh start failed:\n${r.out}`);
    }
    const endpoint = `http://127.0.0.1:${port}`;
    return {
      endpoint,
      dir,
      authUrl: `${endpoint}/auth/v1.0`,
      username: 'test:tester',
      apiKey: 'testing',
      s3: { accessKeyId: 'test:tester', secretAccessKey: 'testing', region: 'us-east-1' },
      startMs: Date.now() - started,
      async stop() {
        reaper?.cancel();
        await run(join(ROOT, 'scripts/swift-saio.sh'), ['stop', dir]);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error('no free port range for Swift SAIO');
}

/** v1 auth against the SAIO, for test set-up (container creation). */
export async function swiftSession(s: SwiftServer): Promise<{ token: string; storageUrl: string }> {
  const res = await fetch(s.authUrl, { headers: { 'x-auth-user': s.username, 'x-auth-key': s.apiKey } });
  const token = res.headers.get('x-auth-token');
  const storageUrl = res.headers.get('x-storage-url');
  if (!res.ok || !token || !storageUrl) throw new Error(`swift auth failed: ${res.status}`);
  return { token, storageUrl };
}

export async function createSwiftContainer(s: SwiftServer, container: string, headers: Record<string, string> = {}): Promise<void> {
  await retrying(`create container ${container}`, async () => {
    const { token, storageUrl } = await swiftSession(s);
    const res = await fetch(`${storageUrl}/${encodeURIComponent(container)}`, { method: 'PUT', headers: { 'x-auth-token': token, ...headers } });
    if (!res.ok) throw new Error(`swift container ${container}: ${res.status}`);
  });
}

/** Test set-up only: `fn` until it succeeds, up to 21 tries 250 ms apart (a fresh or loaded SAIO answers 503 for a while, e.g. while its account is autocreated). */
export async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= 20) throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function createS3Bucket(s: SwiftServer, bucket: string): Promise<void> {
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const c = new S3Client({ endpoint: s.endpoint, region: s.s3.region, forcePathStyle: true, credentials: s.s3, maxAttempts: 1 });
  try {
    await retrying(`create bucket ${bucket}`, async () => {
      try {
        await c.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (err) {
        if ((err as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw err;
      }
    });
  } finally {
    c.destroy();
  }
}

export interface AzuriteServer {
  /** Blob endpoint including the account path, e.g. http://127.0.0.1:PORT/devstoreaccount1. */
  endpoint: string;
  accountName: string;
  accountKey: string;
  port: number;
  pid: number;
  startMs: number;
  stop(): Promise<void>;
}

/**
 * Azurite blob service, in memory. Started as `node …/blob/main.js` so the PID held is the
 * server itself (npx would leave an orphan). `--skipApiVersionCheck`: the SDK is newer than
 * Azurite; `--disableTelemetry`: no outbound traffic.
 */
export async function startAzurite(port?: number): Promise<AzuriteServer> {
  const started = Date.now();
  const p = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules/azurite/dist/src/blob/main.js'), '--blobHost', '127.0.0.1', '--blobPort', String(p), '--inMemoryPersistence', '--skipApiVersionCheck', '--loose', '--disableTelemetry', '--silent'],
    { stdio: 'ignore' },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('azurite did not spawn');
  const reaper = reapChild(child);
  try {
    await waitForPort(p, 20_000, child);
  } catch (err) {
    reaper.cancel();
    child.kill('SIGKILL');
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${p}/${AZURITE_ACCOUNT}`,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    port: p,
    pid,
    startMs: Date.now() - started,
    async stop() {
      reaper.cancel();
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      process.kill(pid, 'SIGTERM');
      const t = setTimeout(() => child.exitCode === null && process.kill(pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function createAzureContainer(a: AzuriteServer, container: string): Promise<void> {
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const svc = new BlobServiceClient(a.endpoint, new StorageSharedKeyCredential(a.accountName, a.accountKey));
  await svc.getContainerClient(container).createIfNotExists();
}

export interface GcsServer {
  endpoint: string;
  projectId: string;
  startMs: number;
  stop(): Promise<void>;
}

interface FirebaseStorageEmulator {
  _persistence: { reset(dirPath: string): void };
  _rulesRuntime: { start: (...a: unknown[]) => Promise<void>; stop: () => Promise<void> };
  _rulesManager: { start: () => Promise<void>; stop: () => Promise<void> };
}
interface FirebaseRegistry {
  start(e: FirebaseStorageEmulator): Promise<void>;
  stop(name: string): Promise<void>;
}

/**
 * The firebase-tools Storage emulator, in this process through its internal modules: the
 * CLI route needs Java 21 and downloads a rules jar. The GCS JSON API uses the admin layer,
 * which needs no rules runtime, so both rule starters are stubbed. It must go through
 * EmulatorRegistry.start (plain start() answers 500 "Cannot determine host and port").
 * Gaps: no createBucket (buckets appear on first upload), preconditions ignored, no auth.
 * Blobs live in a directory of this instance's own (see below).
 */
export async function startGcsEmulator(): Promise<GcsServer> {
  const started = Date.now();
  const port = await freePort();
  const { StorageEmulator } = require('firebase-tools/lib/emulator/storage/index.js') as {
    StorageEmulator: new (a: Record<string, unknown>) => FirebaseStorageEmulator;
  };
  const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry.js') as { EmulatorRegistry: FirebaseRegistry };
  const emu = new StorageEmulator({ projectId: GCS_PROJECT, host: '127.0.0.1', port, rules: [], auto_download: false });
  // Every instance defaults to the same `<tmpdir>/firebase/storage/blobs` and its stop()
  // deletes that whole directory: test files running in parallel (or another checkout's)
  // would delete each other's objects. Each instance gets its own directory instead.
  const blobs = await mkdtemp(join(tmpdir(), 'pixproxy-gcs-'));
  emu._persistence.reset(blobs);
  emu._rulesRuntime.start = async () => {};
  emu._rulesRuntime.stop = async () => {};
  emu._rulesManager.start = async () => {};
  emu._rulesManager.stop = async () => {};
  await EmulatorRegistry.start(emu);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    projectId: GCS_PROJECT,
    startMs: Date.now() - started,
    async stop() {
      await EmulatorRegistry.stop('storage');
      await rm(blobs, { recursive: true, force: true });
    },
  };
}
