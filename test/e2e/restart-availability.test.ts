import { describe, expect, it } from 'vitest';
import type { EventView } from '../../topologies/events/queries.ts';
import { usePipelines } from './helpers/pipeline.ts';
import { waitFor } from './helpers/wait.ts';

const event = (i: number) => ({ id: `ev-${i}`, type: 'door', source: 'door-1', timestamp: new Date(Date.now() - 60_000).toISOString(), payload: 'open' });
const post = (url: string, events: unknown[]) =>
  fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });

describe('the event pipeline after a crash', () => {
  const pipelines = usePipelines();

  it('takes events again within seconds of a restart, while its group still waits for the dead member; all of them are stored', async () => {
    const setup = await pipelines('postgres');
    const first = await setup.start();
    expect((await post(first.url, [event(0)])).status).toBe(202);
    first.run.child.kill('SIGKILL');
    await first.run.exited;

    const restartedAt = Date.now();
    const second = await setup.start({ appId: first.appId, until: 'listening' });
    // The group waits up to the dead member's session timeout (10 s) before it rebalances; ingest does not.
    await waitFor('an accepted ingest', async () => (await post(second.url, [event(1)])).status === 202, { timeoutMs: 60_000, intervalMs: 100 });
    const ingestBackMs = Date.now() - restartedAt;
    console.info(`ingest back ${ingestBackMs} ms after the restart began`);
    expect(ingestBackMs).toBeLessThan(20_000);
    const health = (await (await fetch(`${second.url}/health`)).json()) as { status: string };
    expect(['starting', 'ok']).toContain(health.status);

    await second.run.waitForOutput(new RegExp(`${first.appId} running`), 90_000);
    const stored = await waitFor(
      'both events stored',
      async () => {
        const page = (await (await fetch(`${second.url}/events?limit=100`)).json()) as { events: EventView[] };
        const ids = page.events.map((e) => e.id).sort();
        return ids.length >= 2 && ids;
      },
      { timeoutMs: 90_000 },
    );
    expect(stored).toEqual(['ev-0', 'ev-1']);
  });
});
