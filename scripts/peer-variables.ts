/**
 * Extracts the names of every variable imgproxy and PreviewProxy read, from git clones of
 * their sources, and writes them to src/config/peer-variables.ts with the commits they came
 * from. imgproxy: every `"IMGPROXY_…"` string literal of its Go sources outside tests (each
 * variable is declared once, `env.Bool("IMGPROXY_…")`); PreviewProxy: every `"PP_…"` literal
 * of its Rust sources (`std::env::var("PP_…")` in src/common/config/loader.rs).
 * test/unit/config/peer-variables.test.ts runs the extraction again when the clones are there.
 *
 *   npx tsx scripts/peer-variables.ts --imgproxy <git dir> --previewproxy <git dir> [--write]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface PeerExtraction {
  readonly commit: string;
  readonly names: readonly string[];
}

const PEERS = {
  imgproxy: { pattern: '"IMGPROXY_[A-Z0-9_]+"', paths: ['*.go', ':!*_test.go'] },
  previewproxy: { pattern: '"PP_[A-Z0-9_]+"', paths: ['src/*.rs'] },
} as const;

export type Peer = keyof typeof PEERS;

/** The variable names `peer` reads at `rev` of the clone at `gitDir`, sorted. */
export function extractPeerVariables(peer: Peer, gitDir: string, rev = 'HEAD'): PeerExtraction {
  const git = (...args: string[]): string => execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const commit = git('rev-parse', `${rev}^{commit}`).trim();
  const { pattern, paths } = PEERS[peer];
  const out = git('grep', '-ohE', pattern, commit, '--', ...paths);
  const names = [...new Set(out.split('\n').map((l) => l.replace(/^[^:]*:/, '').replace(/"/g, '').trim()).filter(Boolean))].sort();
  return { commit, names };
}

function render(imgproxy: PeerExtraction, previewproxy: PeerExtraction): string {
  const list = (names: readonly string[]): string => names.map((n) => `  '${n}',`).join('\n');
  return `/**
 * Every variable the peers read, extracted from their sources by scripts/peer-variables.ts
 * (do not edit by hand). Each one is applied (src/config/schema.ts) or refused aloud
 * (src/config/unsupported.ts); test/unit/config/peer-variables.test.ts checks both.
 */

/** https://github.com/imgproxy/imgproxy at ${imgproxy.commit}: ${imgproxy.names.length} variables. */
export const IMGPROXY_COMMIT = '${imgproxy.commit}';
export const imgproxyVariables: readonly string[] = [
${list(imgproxy.names)}
];

/** https://github.com/ViGrise/previewproxy at ${previewproxy.commit}: ${previewproxy.names.length} variables. */
export const PREVIEWPROXY_COMMIT = '${previewproxy.commit}';
export const previewproxyVariables: readonly string[] = [
${list(previewproxy.names)}
];
`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (flag: string): string => {
    const i = process.argv.indexOf(flag);
    const v = i >= 0 ? process.argv[i + 1] : undefined;
    if (!v) throw new Error(`usage: npx tsx scripts/peer-variables.ts --imgproxy <git dir> --previewproxy <git dir> [--write] (missing ${flag})`);
    return v;
  };
  const text = render(extractPeerVariables('imgproxy', arg('--imgproxy')), extractPeerVariables('previewproxy', arg('--previewproxy')));
  if (process.argv.includes('--write')) writeFileSync(fileURLToPath(new URL('../src/config/peer-variables.ts', import.meta.url)), text);
  else process.stdout.write(text);
}
