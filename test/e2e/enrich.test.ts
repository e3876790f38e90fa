import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { createTopic, produce, readAll, recordCount, uniqueName } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

describe('enrich', () => {
  const startRunner = useRunners();
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('runs calls concurrently and passes their results on in offset order', async () => {
    const input = uniqueName('enrich-in');
    const output = uniqueName('enrich-out');
    await createTopic(input, 2);
    let inFlight = 0;
    let mostInFlight = 0;
    await startRunner(
      topology(uniqueName('enrich'))
        .stream(input, { key: serdes.string, value: serdes.string })
        .enrich(async (v) => {
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          await sleep(Math.floor(Math.random() * 10));
          inFlight--;
          return `${v}!`;
        }, { name: 'shout', concurrency: 8 })
        .to(output),
    );
    const inputs = Array.from({ length: 600 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` }));
    await produce(input, inputs);
    const outputs = await readAll(output, 600);
    const ins = await readAll(input, 600);
    for (const partition of [0, 1]) {
      expect(outputs.filter((r) => r.partition === partition).map((r) => r.value)).toEqual(
        ins.filter((r) => r.partition === partition).map((r) => `${r.value}!`),
      );
    }
    expect(mostInFlight).toBeGreaterThan(1);
    expect(mostInFlight).toBeLessThanOrEqual(8);
  });

  it('while its dependency is down for 5 s: the circuit opens, nothing is dead-lettered, all is processed after', async () => {
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
    const upAt = Date.now() + 5000;
    await produce(input, Array.from({ length: 200 }, (_, i) => ({ key: 'k', value: `r${i}` })));
    await waitFor('the circuit to open', () => logger.lines.some((l) => l.includes('circuit opened at lookup')));
    await sleep(Math.max(0, upAt - Date.now()));
    expect(await recordCount(output).catch(() => 0)).toBe(0);
    down = false;

    const outputs = await readAll(output, 200);
    expect(outputs.map((r) => r.value)).toEqual(Array.from({ length: 200 }, (_, i) => `enriched r${i}`));
    expect(await recordCount(`${appId}-dlq`)).toBe(0);
    expect(runner.stats().deadLettered).toBe(0);
    // The partition paused (at least once: each opening of the circuit pauses it again).
    expect(runner.stats().pauses).toBeGreaterThanOrEqual(1);
  });
});
