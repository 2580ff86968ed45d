/**
 * src/modules/health/service.rs (https://github.com/ViGrise/previewproxy): `/health` answers
 * JSON `{"status": "ok", …}`, through a real server.
 */
import { describe, expect } from 'vitest';
import { ported } from '../../harness.js';
import { get, ppServers } from '../pp.js';


describe('src/modules/health/service.rs', () => {
  const servers = ppServers();
  const health = async () => JSON.parse((await get(await servers.get(), '/health')).body.toString()) as { status?: unknown };

  ported('test_health_index_returns_ok', async () => expect((await health()).status).toBe('ok'));
  ported('test_health_index_has_status_field', async () => {
    const { status } = await health();
    expect(typeof status === 'string' && status !== '').toBe(true);
  });
});
