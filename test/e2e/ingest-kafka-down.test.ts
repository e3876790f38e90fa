import { describe, expect, it } from 'vitest';
import { connectPostgres } from '../../lib/connectors/postgres.ts';
import { useCleanup } from './helpers/cleanup.ts';
import { brokers } from './helpers/kafka.ts';
import { kafkaProxy } from './helpers/kafka-proxy.ts';
import { usePipelines } from './helpers/pipeline.ts';
import { waitFor } from './helpers/wait.ts';

const post = (url: string, events: readonly object[]) =>
  fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });

describe('POST /events while Kafka is unreachable', () => {
  // Registered first, so it runs after the pipelines stopped: they need Kafka to drain.
  const cleanup = useCleanup();
  const pipelines = usePipelines();

  it('answers 503 with Retry-After within the publish timeout, never hangs, and takes events again once Kafka is back', async () => {
    const proxy = await kafkaProxy(brokers());
    cleanup.defer(() => proxy.close());
    const setup = await pipelines('postgres');
    const p = await setup.start({ args: ['--port', '0', '--brokers', `127.0.0.1:${proxy.port}`] });
    const db = connectPostgres(setup.databaseUrl, 1);
    cleanup.defer(() => db.$pool.end());
    expect((await post(p.url, [{ id: 'before', type: 't' }])).status).toBe(202);

    await proxy.close();
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const response = await post(p.url, [{ id: `during-${i}`, type: 't' }]);
        return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json(), ms: Date.now() - started };
      }),
    );
    const topic = `${setup.prefix}events.raw`;
    expect(answers.map(({ ms: _, ...answer }) => answer)).toEqual(
      answers.map(() => ({
        status: 503,
        retryAfter: '5',
        body: { error: 'unavailable', message: `Kafka did not acknowledge 1 record(s) for ${topic} within 5000 ms` },
      })),
    );
    // The publish timeout (5 s) and no more: none waits on the producer's own retries.
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(6000);

    await proxy.open();
    // A client retrying as Retry-After says, with the same id.
    await waitFor('an event accepted again', async () => (await post(p.url, [{ id: 'after', type: 't' }])).status === 202, {
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
    const stored = async () => (await db.any<{ id: string }>("SELECT id FROM events WHERE id IN ('before', 'after') ORDER BY id")).map((r) => r.id);
    expect(await waitFor('both events stored', async () => (await stored()).length === 2 && stored())).toEqual(['after', 'before']);
    expect(p.run.child.exitCode).toBeNull();
    expect(await p.stop()).toBe(0);
  });
});
