/**
 * nginx as a static-file baseline for cache hits: writes a config into a scratch directory
 * (literal paths, no /etc changes), starts `nginx -p <dir> -c <conf> -e <log>` in the
 * foreground as a child, and stops it by PID.
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
  workers?: number;
}

export function nginxConfig(o: NginxOptions): string {
  const d = o.dir;
  return nginxScratchConf(d, `  sendfile on;
  tcp_nopush on;
  # node:http has no per-connection request limit; match it (nginx's default is 1000).
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s;
  types { image/jpeg jpg; image/png png; image/webp webp; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${o.port};
    root ${d}/www;
    add_header Cache-Control "max-age=31536000, public";
    location = /health { return 200 "ok"; }
  }
`, { workers: o.workers ?? 2, connections: 1024 });
}

export async function startNginx(o: NginxOptions): Promise<Proc> {
  const www = join(o.dir, 'www');
  for (const sub of ['www', 'tmp']) mkdirSync(join(o.dir, sub), { recursive: true });
  for (const name of readdirSync(o.filesFrom)) copyFileSync(join(o.filesFrom, name), join(www, name));
  // Workers drop to an unprivileged user when started as root: let them read the files.
  chmodSync(o.dir, 0o755);
  chmodSync(www, 0o755);
  for (const name of readdirSync(www)) chmodSync(join(www, name), 0o644);
  const conf = join(o.dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(o));
  const proc = spawnProc('nginx', 'nginx', ['-p', o.dir, '-c', conf, '-e', join(o.dir, 'error.log')]);
  await waitForHttp(proc, `http://127.0.0.1:${o.port}/health`, 10_000);
  return proc;
}
