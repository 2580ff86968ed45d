import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { knownVariables } from '../../../src/config/index.js';
import { IMGPROXY_COMMIT, PREVIEWPROXY_COMMIT, imgproxyVariables, previewproxyVariables } from '../../../src/config/peer-variables.js';
import { unsupported } from '../../../src/config/unsupported.js';
import { extractPeerVariables } from '../../../scripts/peer-variables.js';

// Git clones of the peers, when this machine has them (PEER_MIRRORS=<dir> holding
// imgproxy+imgproxy/repo and ViGrise+previewproxy/repo); without them the committed list,
// with the commit it came from, stands in.
const MIRRORS = process.env.PEER_MIRRORS ?? '/work/.mirror';
const imgproxyRepo = join(MIRRORS, 'imgproxy+imgproxy', 'repo');
const previewproxyRepo = join(MIRRORS, 'ViGrise+previewproxy', 'repo');

describe('peer variables', () => {
  it('the committed lists hold imgproxy\'s 187 and PreviewProxy\'s 46 variables, from a named commit', () => {
    expect(imgproxyVariables).toHaveLength(187);
    expect(previewproxyVariables).toHaveLength(46);
    expect(IMGPROXY_COMMIT).toMatch(/^[0-9a-f]{40}$/);
    expect(PREVIEWPROXY_COMMIT).toMatch(/^[0-9a-f]{40}$/);
    expect(imgproxyVariables.every((n) => n.startsWith('IMGPROXY_'))).toBe(true);
    expect(previewproxyVariables.every((n) => n.startsWith('PP_'))).toBe(true);
  });

  it('every one is applied or refused aloud', () => {
    const known = new Set(knownVariables());
    expect([...imgproxyVariables, ...previewproxyVariables].filter((n) => !known.has(n))).toEqual([]);
  });

  it('every refusal is of a peer variable (none left over once a variable is implemented or dropped)', () => {
    const peers = new Set([...imgproxyVariables, ...previewproxyVariables]);
    expect(unsupported.map((u) => u.name).filter((n) => !peers.has(n))).toEqual([]);
  });

  it.skipIf(!existsSync(imgproxyRepo))('matches imgproxy\'s sources at the mirror\'s HEAD', () => {
    expect(extractPeerVariables('imgproxy', imgproxyRepo).names).toEqual(imgproxyVariables);
  });

  it.skipIf(!existsSync(previewproxyRepo))('matches PreviewProxy\'s sources at the mirror\'s HEAD', () => {
    expect(extractPeerVariables('previewproxy', previewproxyRepo).names).toEqual(previewproxyVariables);
  });
});
