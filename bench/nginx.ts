/**
 * nginx as a baseline, written into a scratch directory (literal paths, no /etc changes),
 * started as `nginx -p <dir> -c <conf> -e <log>` in the foreground as a child, stopped by PID:
 * - static files, for cache hits (startNginx);
 * - an image proxy built from nginx's own modules (startNginxImageFilter): `image_filter
 *   resize` (libgd, Debian's libnginx-mod-http-image-filter) over `proxy_pass` to the origin,
 *   behind `proxy_cache`, the usual nginx recipe
 *   (https://nginx.org/en/docs/http/ngx_http_image_filter_module.html): a new URL is a miss
 *   (fetch + libgd resize), a repeated one a proxy_cache hit from disk.
 */
import { chmodSync, copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nginxScratchConf } from '../deploy/local/nginx-config.js';
import { spawnProc, waitForHttp, type Proc } from './lib/proc.js';

export interface NginxOptions {
  /** Scratch directory for config, logs, temp files and the web root. */
  dir: string;
  port: number;
  /** Files to serve, copied into <dir>/www (nginx workers may run as nobody). */
  filesFrom: string;
  /** Serve `filesFrom` in place instead (the L2 scale's 100,000 entry files): it must be readable by the workers. */
  inPlace?: boolean;
  workers?: number;
}

/** nginx's default is 1000 requests per connection; node:http has no such limit: match it. */
const KEEPALIVE = '  keepalive_requests 1000000;\n';

export function nginxConfig(o: NginxOptions): string {
  const d = o.dir;
  return nginxScratchConf(d, `${KEEPALIVE}  sendfile on;
  tcp_nopush on;
  open_file_cache max=1000 inactive=60s;
  types { image/jpeg jpg; image/png png; image/webp webp; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${o.port};
    root ${o.inPlace ? o.filesFrom : `${d}/www`};
    add_header Cache-Control "max-age=31536000, public";
    location = /health { return 200 "ok"; }
  }
`, { workers: o.workers ?? 2, connections: 1024 });
}

/** The module's path in Debian's package. */
export const IMAGE_FILTER_MODULE = '/usr/lib/nginx/modules/ngx_http_image_filter_module.so';

export interface ImageFilterOptions {
  dir: string;
  /** The caching front. */
  port: number;
  /** The resizing back end, behind it. */
  backPort: number;
  originPort: number;
  workers?: number;
}

/** `/resize/<w>x<h>/<path at the origin>` → fit inside w×h, JPEG quality 80, as pixproxy's default. */
export function imageFilterConfig(o: ImageFilterOptions): string {
  const d = o.dir;
  return nginxScratchConf(d, `${KEEPALIVE}  proxy_cache_path ${d}/cache levels=1:2 keys_zone=img:16m max_size=2g inactive=1d use_temp_path=off;
  upstream resizer { server 127.0.0.1:${o.backPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${o.port};
    location = /health { return 200 "ok"; }
    location / {
      proxy_pass http://resizer;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache img;
      proxy_cache_valid 200 1d;
      proxy_cache_lock on;
      add_header X-Cache $upstream_cache_status;
    }
  }
  upstream origin { server 127.0.0.1:${o.originPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${o.backPort};
    location ~ ^/resize/([0-9]+)x([0-9]+)/(.*)$ {
      proxy_pass http://origin/$3;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      image_filter resize $1 $2;
      image_filter_jpeg_quality 80;
      image_filter_buffer 64M;
    }
  }
`, { workers: o.workers ?? 2, connections: 1024, modules: [IMAGE_FILTER_MODULE] });
}

export async function startNginxImageFilter(o: ImageFilterOptions): Promise<Proc> {
  // Workers drop to an unprivileged user when started as root: they write the cache and temp files.
  for (const sub of ['tmp', 'cache']) {
    mkdirSync(join(o.dir, sub), { recursive: true });
    chmodSync(join(o.dir, sub), 0o777);
  }
  chmodSync(o.dir, 0o755);
  const conf = join(o.dir, 'nginx.conf');
  writeFileSync(conf, imageFilterConfig(o));
  const proc = spawnProc('nginx image_filter', 'nginx', ['-p', o.dir, '-c', conf, '-e', join(o.dir, 'error.log')]);
  await waitForHttp(proc, `http://127.0.0.1:${o.port}/health`, 10_000);
  return proc;
}

export async function startNginx(o: NginxOptions): Promise<Proc> {
  const www = join(o.dir, 'www');
  for (const sub of ['www', 'tmp']) mkdirSync(join(o.dir, sub), { recursive: true });
  chmodSync(o.dir, 0o755);
  if (!o.inPlace) {
    for (const name of readdirSync(o.filesFrom)) copyFileSync(join(o.filesFrom, name), join(www, name));
    // Workers drop to an unprivileged user when started as root: let them read the files.
    chmodSync(www, 0o755);
    for (const name of readdirSync(www)) chmodSync(join(www, name), 0o644);
  }
  const conf = join(o.dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(o));
  const proc = spawnProc('nginx', 'nginx', ['-p', o.dir, '-c', conf, '-e', join(o.dir, 'error.log')]);
  await waitForHttp(proc, `http://127.0.0.1:${o.port}/health`, 10_000);
  return proc;
}
