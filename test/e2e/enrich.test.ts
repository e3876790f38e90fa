import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { createTopic, produce, readAll, readAllSettled, recordCount, uniqueName } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

describe('enrich', () => {
  const startRunner = useRunners();
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('a call that keeps its partition from moving longer than stallTimeoutMs makes /health degraded, naming the partition, until it returns', async () => {
    const input = uniqueName('enrich-stall');
    await createTopic(input, 1);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runner = await startRunner(
      topology(uniqueName('enrich-stall'))
        .stream(input, { key: serdes.string, value: serdes.string })
        .enrich(async (v) => {
          await gate;
          return v;
        }, { name: 'held' })
        .to(uniqueName('enrich-stall-out')),
      { port: 0, stallTimeoutMs: 1_000 },
    );
    const health = async () => (await (await fetch(`${runner.httpUrl!}/health`)).json()) as { status: string; checks: Record<string, string> };
    expect((await health()).status).toBe('ok');
    await produce(input, [{ key: 'k', value: 'v' }]);
    const degraded = await waitFor('degraded', async () => {
      const report = await health();
      return report.status === 'degraded' && report;
    });
    expect(degraded.checks[`partition ${input}-0`]).toMatch(/^has not moved for \d+ s: its batch waits \(retries, a slow call\)$/);
    release();
    await waitFor('ok again', async () => (await health()).status === 'ok');
    expect(runner.stats().consumed).toBe(1);
  });

  it('runs calls concurrently and passes their results on in offset order', async () => {
    const input = uniqueName('enrich-in');
    const output = uniqueName('enrich-out');
    await createTopic(input, 2);
    // The bound is per task (one per partition here): tasks may run side by side.
    const inFlight = [0, 0];
    const mostInFlight = [0, 0];
    const appId = uniqueName('enrich');
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .enrich(async (v, _key, { partition }) => {
          mostInFlight[partition] = Math.max(mostInFlight[partition]!, ++inFlight[partition]!);
          await sleep(Math.floor(Math.random() * 10));
          inFlight[partition]!--;
          return `${v}!`;
        }, { name: 'shout', concurrency: 8 })
        .to(output),
    );
    const inputs = Array.from({ length: 600 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` }));
    await produce(input, inputs);
    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    const ins = await readAll(input, 600);
    expect(ins).toHaveLength(600);
    expect(outputs).toHaveLength(600);
    for (const partition of [0, 1]) {
      expect(outputs.filter((r) => r.partition === partition).map((r) => [r.key, r.value])).toEqual(
        ins.filter((r) => r.partition === partition).map((r) => [r.key, `${r.value}!`]),
      );
    }
    expect(runner.stats()).toMatchObject({ consumed: 600, produced: 600, retries: 0 });
    expect(Math.max(...mostInFlight)).toBeGreaterThan(1);
    expect(Math.max(...mostInFlight)).toBeLessThanOrEqual(8);
  });

  it('while its dependency is down past the retry budget: the circuit opens, nothing is dead-lettered, all is processed after', async () => {
    let down = true;
    server = createServer((request, response) => {
      const value = decodeURIComponent((request.url ?? '/').slice(1));
      response.statusCode = down ? 503 : 200;
      response.end(down ? 'unavailable' : `enriched ${value}`);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const input = uniqueName('breaker-in');
    const output = uniqueName('breaker-out');
    const appId = uniqueName('breaker');
    await createTopic(input, 1);
    const logger = collectingLogger();
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .enrich(async (v) => {
          const response = await fetch(`${url}/${encodeURIComponent(v)}`);
          if (!response.ok) throw new Error(`dependency answered ${response.status}`);
          return response.text();
        }, { name: 'lookup', breaker: { failures: 3, halfOpenAfterMs: 500 } })
        .to(output),
      { logger, errors: { retries: 3, backoff: { initialMs: 50 } } },
    );
    await produce(input, Array.from({ length: 200 }, (_, i) => ({ key: 'k', value: `r${i}` })));
    // A record's retry budget is 3 tries 50–200 ms apart (at most 350 ms); the circuit half-opens
    // every 500 ms. Three openings (two failed probes) keep the dependency down for over 1 s.
    const openings = () => logger.lines.filter((l) => l.includes('circuit opened at lookup')).length;
    await waitFor('the circuit to open three times', () => openings() >= 3);
    expect(runner.stats().pauses).toBe(1);
    expect(await recordCount(output)).toBe(0);
    expect(await recordCount(`${appId}-dlq`)).toBe(0);
    down = false;

    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(outputs.map((r) => [r.key, r.value])).toEqual(Array.from({ length: 200 }, (_, i) => ['k', `enriched r${i}`]));
    expect(await recordCount(`${appId}-dlq`)).toBe(0);
    // The partition paused once, for as long as the circuit stayed open.
    expect(runner.stats()).toMatchObject({ consumed: 200, produced: 200, deadLettered: 0, processingErrors: 0, pauses: 1 });
  });
});
