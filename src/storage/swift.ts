/**
 * OpenStack Swift backend over plain fetch (undici): the npm Swift clients are either
 * Keystone-only or built on the deprecated `request`, and Swift's object API is a handful
 * of verbs on `<storage-url>/<container>/<object>`.
 *
 * Auth: v1 (tempauth/swauth: X-Auth-User/X-Auth-Key), v2.0 and Keystone v3
 * (`POST /v3/auth/tokens`, token in X-Subject-Token, storage URL from the catalog). A 401
 * re-authenticates once. Expiry is also set natively with X-Delete-At so the store
 * collects expired entries on its own. Many keys are deleted with the cluster's bulk delete
 * (https://docs.openstack.org/swift/latest/middleware.html#bulk-delete) when its `/info`
 * lists `bulk_delete`, else one DELETE each.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Agent, buildConnector, fetch, type Response } from 'undici';
import { guardSocketEnd } from '../net/socket-end-guard.js';
import { ProxyError } from '../errors.js';
import { encodeUserMeta, openStore, revalidated, storageError, toBlobMeta } from './common.js';
import { DELETE_CONCURRENCY, forEachLimited } from './delete-many.js';
import type { BlobMeta, BlobStore, GetOptions, GetResult, ListItem, OpenOptions, PutMeta, StorageBackend } from './types.js';

export interface SwiftBackendOptions {
  authUrl: string;
  username: string;
  apiKey: string;
  /** 0 = guess from the auth URL (`/v3` → 3, `/v2` → 2, else 1). */
  authVersion?: number;
  tenant?: string;
  domain?: string;
  connectTimeoutMs?: number;
  /** Wait for response headers, and the longest pause between body chunks. */
  timeoutMs?: number;
  listPageSize?: number;
}

interface Session {
  token: string;
  storageUrl: string;
  /** Unix ms; re-auth a minute before so a streaming PUT (not replayable) is not cut by a 401. */
  expiresAt: number;
}

const META_PREFIX = 'x-object-meta-';
/** How long close() lets requests in flight finish before it cuts them. */
const CLOSE_GRACE_MS = 1000;

function resolveAuthVersion(authUrl: string, version = 0): 1 | 2 | 3 {
  if (version === 1 || version === 2 || version === 3) return version;
  const path = (() => {
    try {
      return new URL(authUrl).pathname;
    } catch {
      return authUrl;
    }
  })();
  if (/\/v3(\/|$)/.test(path)) return 3;
  if (/\/v2(\.0)?(\/|$)/.test(path)) return 2;
  return 1;
}

interface CatalogEndpoint {
  interface?: string;
  url?: string;
  publicURL?: string;
}
interface CatalogEntry {
  type?: string;
  endpoints?: CatalogEndpoint[];
}

function objectStoreUrl(catalog: CatalogEntry[] | undefined, v: 2 | 3): string | undefined {
  const entry = catalog?.find((c) => c.type === 'object-store');
  if (!entry?.endpoints) return undefined;
  if (v === 2) return entry.endpoints.find((e) => e.publicURL)?.publicURL;
  return (entry.endpoints.find((e) => e.interface === 'public') ?? entry.endpoints[0])?.url;
}

export function createSwiftBackend(opts: SwiftBackendOptions): StorageBackend {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const connector = buildConnector({ timeout: opts.connectTimeoutMs ?? 10_000 });
  const dispatcher = new Agent({
    // The same guard as the http source: a backend closing a `Connection: close` answer while
    // its body is read slowly must not crash the process (nodejs/undici#5360).
    connect: (options, callback) => {
      connector(options, (err, socket) => {
        if (socket) callback(null, guardSocketEnd(socket));
        else callback(err ?? new Error('connect failed'), null);
      });
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const version = resolveAuthVersion(opts.authUrl, opts.authVersion);
  const pageSize = opts.listPageSize ?? 1000;
  let session: Session | undefined;
  let authenticating: Promise<Session> | undefined;
  /** Deletes per bulk-delete call, or 0 without the middleware; read once from the cluster's /info. */
  let bulkDeletes: Promise<number> | undefined;

  async function authenticate(): Promise<Session> {
    const base = opts.authUrl.replace(/\/+$/, '');
    let res: Response;
    try {
      if (version === 1) {
        res = await fetch(base, { headers: { 'x-auth-user': opts.username, 'x-auth-key': opts.apiKey }, dispatcher });
      } else if (version === 2) {
        const body = { auth: { passwordCredentials: { username: opts.username, password: opts.apiKey }, ...(opts.tenant ? { tenantName: opts.tenant } : {}) } };
        res = await fetch(`${base}/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher });
      } else {
        const domain = { name: opts.domain || 'Default' };
        const body = {
          auth: {
            identity: { methods: ['password'], password: { user: { name: opts.username, domain, password: opts.apiKey } } },
            ...(opts.tenant ? { scope: { project: { name: opts.tenant, domain } } } : {}),
          },
        };
        res = await fetch(`${base}/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher });
      }
    } catch (err) {
      throw storageError('swift', 'auth', opts.authUrl, err);
    }
    if (!res.ok) {
      await res.body?.cancel();
      const status = res.status === 401 || res.status === 403 ? 403 : res.status;
      throw storageError('swift', 'auth', opts.authUrl, new Error(`authentication failed for user ${opts.username} (v${version} auth answered ${res.status})`), status);
    }
    const now = Date.now();
    if (version === 1) {
      await res.body?.cancel();
      const token = res.headers.get('x-auth-token');
      const storageUrl = res.headers.get('x-storage-url');
      if (!token || !storageUrl) throw new ProxyError('SOURCE_BAD_GATEWAY', `swift auth ${opts.authUrl}: answer lacks X-Auth-Token or X-Storage-Url`);
      const ttl = Number(res.headers.get('x-auth-token-expires') ?? '');
      return { token, storageUrl, expiresAt: Number.isFinite(ttl) && ttl > 0 ? now + ttl * 1000 : now + 3_600_000 };
    }
    const json = (await res.json()) as {
      access?: { token?: { id?: string; expires?: string }; serviceCatalog?: CatalogEntry[] };
      token?: { expires_at?: string; catalog?: CatalogEntry[] };
    };
    const token = version === 2 ? json.access?.token?.id : res.headers.get('x-subject-token');
    const storageUrl = version === 2 ? objectStoreUrl(json.access?.serviceCatalog, 2) : objectStoreUrl(json.token?.catalog, 3);
    if (!token || !storageUrl) throw new ProxyError('SOURCE_BAD_GATEWAY', `swift auth ${opts.authUrl}: no token or no object-store endpoint in the catalog`);
    const exp = Date.parse((version === 2 ? json.access?.token?.expires : json.token?.expires_at) ?? '');
    return { token, storageUrl: storageUrl.replace(/\/+$/, ''), expiresAt: Number.isNaN(exp) ? now + 3_600_000 : exp };
  }

  async function getSession(): Promise<Session> {
    if (session && session.expiresAt - 60_000 > Date.now()) return session;
    // One authentication at a time: concurrent requests share it.
    authenticating ??= authenticate().finally(() => {
      authenticating = undefined;
    });
    session = await authenticating;
    return session;
  }

  /** Authentication is shared by concurrent calls, so one caller's abort only ends its own wait. */
  function withSignal<T>(p: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
    if (!signal) return p;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new ProxyError('CANCELLED', `swift ${what}: aborted`, { cause: signal.reason }));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  interface Req {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: Buffer | Readable;
    signal?: AbortSignal | undefined;
  }

  async function request(r: Req, target: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const s = await withSignal(getSession(), r.signal, `${r.method} ${target}`);
      let res: Response;
      try {
        res = await fetch(`${s.storageUrl}${r.path}`, {
          method: r.method,
          headers: { ...r.headers, 'x-auth-token': s.token },
          ...(r.body !== undefined ? { body: r.body, duplex: 'half' as const } : {}),
          ...(r.signal ? { signal: r.signal } : {}),
          dispatcher,
        });
      } catch (err) {
        throw storageError('swift', r.method, target, err);
      }
      // Token expired or revoked: re-auth once. A stream body cannot be replayed.
      if (res.status === 401 && attempt === 0 && !(r.body instanceof Readable)) {
        await res.body?.cancel();
        if (session?.token === s.token) session = undefined;
        continue;
      }
      return res;
    }
  }

  /** The cluster's bulk-delete limit from its capabilities (`GET /info`, no auth), or 0. */
  function bulkDeleteLimit(storageUrl: string): Promise<number> {
    bulkDeletes ??= (async () => {
      try {
        const info = await fetch(storageUrl.replace(/\/v1\/[^/]+\/?$/, '/info'), { dispatcher });
        if (!info.ok) {
          await info.body?.cancel();
          return 0;
        }
        const caps = (await info.json()) as { bulk_delete?: { max_deletes_per_request?: number } };
        const max = caps.bulk_delete?.max_deletes_per_request;
        return typeof max === 'number' && max > 0 ? Math.min(max, 10_000) : 0;
      } catch {
        return 0;
      }
    })();
    return bulkDeletes;
  }

  async function fail(res: Response, op: string, target: string): Promise<never> {
    const text = (await res.text().catch(() => '')).slice(0, 200);
    throw storageError('swift', op, target, new Error(text || res.statusText), res.status);
  }

  function metaFrom(res: Response): BlobMeta {
    const user: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (k.startsWith(META_PREFIX)) user[k.slice(META_PREFIX.length)] = v;
    });
    return toBlobMeta({
      size: Number(res.headers.get('content-length') ?? 0),
      contentType: res.headers.get('content-type') ?? undefined,
      etag: res.headers.get('etag') ?? undefined,
      lastModified: res.headers.get('last-modified') ?? undefined,
      cacheControl: res.headers.get('cache-control') ?? undefined,
      httpExpires: res.headers.get('expires') ?? undefined,
      user,
    });
  }

  return {
    kind: 'swift',
    open(container: string, prefix?: string, openOpts?: OpenOptions): BlobStore {
      // Failures come with a Response here (see fail()), not as SDK errors: no status to extract.
      const { name, pre, target, found, result } = openStore('swift', container, prefix, () => undefined, openOpts);
      const cpath = `/${encodeURIComponent(container)}`;
      // Keys may hold `?`, `#`, `%`: encode each segment, keep the slashes.
      const opath = (key: string): string => `${cpath}/${(pre + key).split('/').map(encodeURIComponent).join('/')}`;

      async function deleteOne(key: string): Promise<void> {
        const res = await request({ method: 'DELETE', path: opath(key) }, target(key));
        if (!res.ok && res.status !== 404) return fail(res, 'DELETE', target(key));
        await res.body?.cancel();
      }

      async function head(key: string): Promise<BlobMeta | null> {
        const res = await request({ method: 'HEAD', path: opath(key) }, target(key));
        if (res.status === 404) return null;
        if (!res.ok) return fail(res, 'HEAD', target(key));
        return found(key, metaFrom(res));
      }

      function putHeaders(key: string, body: Buffer | Readable, meta: PutMeta): Record<string, string> {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(encodeUserMeta(key, meta, Date.now()))) headers[META_PREFIX + k] = v;
        if (meta.contentType) headers['content-type'] = meta.contentType;
        if (meta.cacheControl) headers['cache-control'] = meta.cacheControl;
        if (meta.httpExpires) headers['expires'] = meta.httpExpires;
        // Swift rejects an X-Delete-At in the past; such an entry is already a miss on read.
        if (meta.expiresAt !== undefined) {
          const at = Math.ceil(meta.expiresAt / 1000);
          if (at > Math.ceil(Date.now() / 1000) + 1) headers['x-delete-at'] = String(at);
        }
        if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
        return headers;
      }

      return {
        name,
        head,

        async get(key: string, o: GetOptions = {}): Promise<GetResult> {
          const headers: Record<string, string> = {};
          if (o.ifNoneMatch) headers['if-none-match'] = o.ifNoneMatch;
          else if (o.ifModifiedSince) headers['if-modified-since'] = o.ifModifiedSince;
          const res = await request({ method: 'GET', path: opath(key), headers, signal: o.signal }, target(key));
          if (res.status === 404) {
            await res.body?.cancel();
            return null;
          }
          if (res.status === 304) {
            await res.body?.cancel();
            return revalidated(() => head(key));
          }
          if (!res.ok || !res.body) return fail(res, 'GET', target(key));
          return result(key, metaFrom(res), o, Readable.fromWeb(res.body as WebReadableStream<Uint8Array>));
        },

        async put(key: string, body: Buffer | Readable, meta: PutMeta): Promise<void> {
          const res = await request({ method: 'PUT', path: opath(key), headers: putHeaders(key, body, meta), body }, target(key));
          if (!res.ok) return fail(res, 'PUT', target(key));
          await res.body?.cancel();
        },

        async putIfAbsent(key: string, body: Buffer, meta: PutMeta): Promise<boolean> {
          // Swift answers 412 when the object exists
          // (https://docs.openstack.org/api-ref/object-store/#create-or-replace-object).
          const headers = { ...putHeaders(key, body, meta), 'if-none-match': '*' };
          const res = await request({ method: 'PUT', path: opath(key), headers, body }, target(key));
          if (res.status === 412) {
            await res.body?.cancel();
            return false;
          }
          if (!res.ok) return fail(res, 'PUT', target(key));
          await res.body?.cancel();
          return true;
        },

        delete: deleteOne,

        async deleteMany(keys: readonly string[]): Promise<void> {
          const limit = await bulkDeleteLimit((await getSession()).storageUrl);
          if (limit === 0) return forEachLimited(keys, DELETE_CONCURRENCY, deleteOne);
          for (let i = 0; i < keys.length; i += limit) {
            const chunk = keys.slice(i, i + limit);
            const where = `${target(chunk[0] ?? '')}…(${chunk.length} keys)`;
            // One URL-encoded /container/object per line.
            const body = Buffer.from(chunk.map((k) => opath(k)).join('\n'));
            const res = await request({ method: 'POST', path: '?bulk-delete', headers: { 'content-type': 'text/plain', accept: 'application/json', 'content-length': String(body.length) }, body }, where);
            if (!res.ok) return fail(res, 'DELETE', where);
            // The status of a bulk request is in its body: the answer starts before the deletes end.
            const out = (await res.json()) as { 'Response Status'?: string; Errors?: unknown[] };
            const status = Number(out['Response Status']?.slice(0, 3));
            if ((Number.isFinite(status) && status >= 300) || (out.Errors?.length ?? 0) > 0) {
              throw storageError('swift', 'DELETE', where, new Error(`bulk delete: ${out['Response Status'] ?? '?'}, ${JSON.stringify(out.Errors ?? []).slice(0, 200)}`), Number.isFinite(status) ? status : undefined);
            }
          }
        },

        async *list(listPrefix = ''): AsyncIterable<ListItem> {
          let marker = '';
          for (;;) {
            const q = new URLSearchParams({ format: 'json', prefix: pre + listPrefix, limit: String(pageSize) });
            if (marker) q.set('marker', marker);
            const res = await request({ method: 'GET', path: `${cpath}?${q.toString()}` }, `${container}/${pre}${listPrefix}*`);
            if (res.status === 404 || res.status === 204) {
              await res.body?.cancel();
              return;
            }
            if (!res.ok) return fail(res, 'LIST', `${container}/${pre}${listPrefix}*`);
            const page = (await res.json()) as { name?: string; bytes?: number; last_modified?: string; subdir?: string }[];
            for (const o of page) {
              if (o.name === undefined) continue;
              // Swift's listing time is UTC without a zone designator.
              const mtime = o.last_modified ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(o.last_modified) ? o.last_modified : `${o.last_modified}Z`) : NaN;
              yield { key: o.name.slice(pre.length), size: o.bytes ?? 0, ...(Number.isNaN(mtime) ? {} : { mtime }) };
            }
            const last = page.at(-1)?.name;
            if (page.length < pageSize || last === undefined) return;
            marker = last;
          }
        },
      };
    },
    async close(): Promise<void> {
      // Agent.close() waits for every request in flight, and a hung backend answers none:
      // calls the resilience wrapper gave up on would hold shutdown for up to timeoutMs
      // (60 s by default). Callers close after their own work has settled, so whatever is
      // still running after a short grace is abandoned.
      let grace: NodeJS.Timeout | undefined;
      const closed = dispatcher.close().then(() => true, () => true);
      const late = new Promise<false>((r) => {
        grace = setTimeout(() => r(false), CLOSE_GRACE_MS);
      });
      try {
        if (!(await Promise.race([closed, late]))) await dispatcher.destroy();
      } finally {
        clearTimeout(grace);
      }
    },
  };
}
