/**
 * External tools (wrk, nginx, nginx's image_filter module): found on the machine, installed
 * with apt-get when running as root, otherwise reported as missing so the scenarios (or peers)
 * that need them are skipped with a message.
 */
import { existsSync } from 'node:fs';
import { IMAGE_FILTER_MODULE } from '../nginx.js';
import { runCommand } from './proc.js';

export type Tool = 'wrk' | 'nginx' | 'nginx-image-filter';

/** The Debian package of each tool. */
const PACKAGES: Record<Tool, string> = { wrk: 'wrk', nginx: 'nginx', 'nginx-image-filter': 'libnginx-mod-http-image-filter' };

async function has(tool: Tool): Promise<boolean> {
  // A fresh machine with nginx from another package set may lack the module: nginx alone is not enough.
  if (tool === 'nginx-image-filter') return existsSync(IMAGE_FILTER_MODULE);
  const r = await runCommand(`which ${tool}`, 'sh', ['-c', `command -v ${tool}`]).catch(() => ({ code: 1 }));
  return r.code === 0;
}

/** Returns the set of available tools, installing missing ones when root. */
export async function ensureTools(tools: readonly Tool[], log: (msg: string) => void): Promise<Set<Tool>> {
  const missing: Tool[] = [];
  for (const t of tools) if (!(await has(t))) missing.push(t);
  if (missing.length > 0 && process.getuid?.() === 0) {
    const packages = missing.map((t) => PACKAGES[t]);
    log(`installing ${packages.join(', ')} with apt-get (running as root)…`);
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    let r = await runCommand('apt-get', 'apt-get', ['install', '-y', '-q', ...packages], { env });
    if (r.code !== 0) {
      await runCommand('apt-get update', 'apt-get', ['update', '-q'], { env });
      r = await runCommand('apt-get', 'apt-get', ['install', '-y', '-q', ...packages], { env });
    }
    if (r.code !== 0) log(`apt-get install failed (${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const available = new Set<Tool>();
  for (const t of tools) {
    if (await has(t)) available.add(t);
    else log(`MISSING: ${t} is not installed and could not be installed here. Install it with \`sudo apt-get install -y ${PACKAGES[t]}\`; the parts that need it are skipped.`);
  }
  return available;
}

export async function toolVersion(cmd: string, args: string[]): Promise<string> {
  const r = await runCommand(cmd, cmd, args).catch(() => ({ stdout: '', stderr: '' }));
  return (r.stdout + r.stderr).split('\n')[0]?.trim() ?? '';
}
