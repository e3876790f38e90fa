import { describe, expect, it } from 'vitest';
import { serdes, topology, type SetupContext } from '../../lib/index.ts';
import { createTopic, readAllSettled, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';

describe('setup(context)', () => {
  const startRunner = useRunners();

  it('runs before the first record: its routes share the server, its checks join /health, its stop hooks run last', async () => {
    const input = uniqueName('setup-in');
    const output = uniqueName('setup-out');
    await createTopic(input, 2);
    const app = topology(uniqueName('setup'));
    app.stream(input, { key: serdes.string, value: serdes.string }).mapValues((v) => v.toUpperCase()).to(output);
    const events: string[] = [];
    let healthy = true;
    const setup = (context: SetupContext) => {
      events.push(`setup ${context.appId}`);
      context.healthCheck('dependency', async () => {
        if (!healthy) throw new Error('dependency is down');
      });
      context.http((server) => {
        server.post<{ Body: { words: string[] } }>('/words', async (request, reply) => {
          await context.publish(input, request.body.words.map((w) => ({ key: w, value: w })));
          return reply.code(202).send({ published: request.body.words.length, held: await context.recordCount(input) });
        });
      });
      context.onStop(() => void events.push('first hook'));
      context.onStop(() => void events.push('second hook'));
    };
    const runner = await startRunner(app, { port: 0, setup });
    const url = runner.httpUrl!;

    const response = await fetch(`${url}/words`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ words: ['a', 'b', 'c'] }),
    });
    expect([response.status, await response.json()]).toEqual([202, { published: 3, held: 3 }]);
    expect((await readAllSettled(output, { group: runner.appId, inputs: [input] })).map((r) => `${r.key} ${r.value}`).sort()).toEqual(['a A', 'b B', 'c C']);

    const ok = await fetch(`${url}/health`);
    expect([ok.status, await ok.json()]).toEqual([200, expect.objectContaining({ status: 'ok', checks: { kafka: 'ok', dependency: 'ok' } })]);
    healthy = false;
    const degraded = await fetch(`${url}/health`);
    expect([degraded.status, await degraded.json()]).toEqual([
      503,
      expect.objectContaining({ status: 'degraded', checks: { kafka: 'ok', dependency: 'dependency is down' } }),
    ]);
    const missing = await fetch(`${url}/nowhere`);
    expect([missing.status, ((await missing.json()) as { error: string }).error]).toEqual([404, 'not_found']);

    await runner.stop();
    expect(events).toEqual([`setup ${runner.appId}`, 'second hook', 'first hook']);
  });

  it('a setup that throws stops the start with its error and leaves nothing running', async () => {
    const input = uniqueName('setup-fail-in');
    await createTopic(input, 1);
    const app = topology(uniqueName('setup-fail'));
    app.stream(input, { key: serdes.string, value: serdes.string }).to(uniqueName('setup-fail-out'));
    let stopped = false;
    await expect(
      startRunner(app, {
        setup: (context) => {
          context.onStop(() => void (stopped = true));
          throw new Error('cannot reach the database');
        },
      }),
    ).rejects.toThrow('cannot reach the database');
    expect(stopped).toBe(true);
  });
});
