import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { quantile } from '../../lib/metrics/quantile.ts';
import type { Snapshot } from '../../lib/metrics/snapshot.ts';
import { runCli } from './helpers/cli.ts';
import { getJson } from './helpers/http.ts';
import { createTopic, produce, uniqueName, waitForCommitted, waitForEndsToSettle } from './helpers/kafka.ts';
import { parseSamples, samplesOf, sumOf } from './helpers/prometheus-text.ts';
import { useRunners } from './helpers/runners.ts';

const partitions = 3;
const perPartition = 60;
/** Every 20th record fails for good and goes to the dead-letter topic. */
const poisonAt = (i: number) => i % 20 === 3;

describe('GET /dashboard/snapshot and streamrun top', () => {
  const startRunner = useRunners();

  it('snapshot numbers equal those of /metrics after a known run; top --once prints them; top names a URL it cannot use', async () => {
    const input = uniqueName('snapshot-in');
    await createTopic(input, partitions);
    for (let p = 0; p < partitions; p++) {
      await produce(
        input,
        Array.from({ length: perPartition }, (_, i) => ({ key: `k${i}`, value: poisonAt(i) ? 'poison' : `v${i}`, partition: p })),
      );
    }
    const app = topology(uniqueName('snapshot'));
    app
      .stream(input, { key: serdes.string, value: serdes.string })
      .mapValues(
        (v) => {
          if (v === 'poison') throw new Error('poison');
          return v.toUpperCase();
        },
        { name: 'shout' },
      )
      .to(`${input}-out`);
    const runner = await startRunner(app, { port: 0, errors: { retries: 0 } });
    await waitForCommitted(runner.appId, [input]);
    const dlq = `${runner.appId}-dlq`;
    for (const topic of [`${input}-out`, dlq]) await waitForEndsToSettle(topic);

    const total = partitions * perPartition;
    const poison = partitions * Array.from({ length: perPartition }, (_, i) => i).filter(poisonAt).length;
    expect(poison).toBe(9);
    const { status, body } = await getJson(`${runner.httpUrl}/dashboard/snapshot`);
    const snapshot = body as unknown as Snapshot;
    const samples = parseSamples(await (await fetch(`${runner.httpUrl}/metrics`)).text());
    const latencyBuckets = samplesOf(samples, 'streamrun_end_to_end_latency_seconds_bucket').map((s) => ({
      le: s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']) * 1000,
      count: s.value,
    }));
    const lags = samplesOf(samples, 'streamrun_consumer_lag_records').map((s) => ({ topic: s.labels['topic'], partition: Number(s.labels['partition']), lag: s.value }));

    expect(status).toBe(200);
    expect(snapshot).toEqual({
      appId: runner.appId,
      time: expect.any(Number),
      consumed: total,
      // The outputs of the good records, and the dead letters of the others.
      produced: total,
      deadLetters: poison,
      errors: poison,
      lagTotal: 0,
      lagByPartition: [0, 1, 2].map((partition) => ({ topic: input, partition, lag: 0 })),
      dlqRecords: poison,
      latency: { p50: quantile(0.5, latencyBuckets), p95: quantile(0.95, latencyBuckets), p99: quantile(0.99, latencyBuckets) },
      assignedPartitions: partitions,
      pausedPartitions: 0,
      breakers: [],
      // Its first snapshot: nothing earlier to compare with.
      recent: null,
    });
    // The same numbers as /metrics, read just after.
    expect([
      sumOf(samples, 'streamrun_records_consumed_total'),
      sumOf(samples, 'streamrun_records_produced_total'),
      sumOf(samples, 'streamrun_dead_letters_total'),
      sumOf(samples, 'streamrun_errors_total'),
      sumOf(samples, 'streamrun_dlq_records'),
      sumOf(samples, 'streamrun_assigned_partitions'),
      sumOf(samples, 'streamrun_partitions_paused'),
      sumOf(samples, 'streamrun_end_to_end_latency_seconds_count'),
    ]).toEqual([total, total, poison, poison, poison, partitions, 0, total]);
    expect(lags).toEqual(snapshot.lagByPartition);
    expect(snapshot.latency.p50).toBeGreaterThan(0);

    // Nothing came since: no records per second, no latency to report.
    const again = (await getJson(`${runner.httpUrl}/dashboard/snapshot`)).body as unknown as Snapshot;
    expect(again.recent).toMatchObject({ consumedPerSecond: 0, producedPerSecond: 0, latency: { p50: null, p95: null, p99: null } });

    const top = runCli(['top', runner.httpUrl!, '--once']);
    expect([await top.exited, top.stderr()]).toEqual([0, '']);
    const lines = top.stdout().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^streamrun top: ${runner.appId} at ${runner.httpUrl}, \\d{4}-\\d\\d-\\d\\dT`));
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^consumed {2,}${total} {2,}0\\.0$`)),
        expect.stringMatching(new RegExp(`^produced {2,}${total} {2,}0\\.0$`)),
        expect.stringMatching(new RegExp(`^dead letters {2,}${poison}$`)),
        expect.stringMatching(new RegExp(`^DLQ records {2,}${poison}$`)),
        expect.stringMatching(/^lag {2,}0$/),
        ...[0, 1, 2].map((p) => expect.stringMatching(new RegExp(`^  ${input}-${p} {2,}0$`))),
        expect.stringMatching(/^partitions {2,}3 assigned, 0 paused$/),
        expect.stringMatching(/^breakers {2,}none$/),
      ]),
    );

    const unreachable = runCli(['top', 'http://127.0.0.1:1']);
    expect([await unreachable.exited, unreachable.stdout()]).toEqual([1, '']);
    expect(unreachable.stderr()).toMatch(/^streamrun: cannot reach http:\/\/127\.0\.0\.1:1: [^\n]+\n$/);
    const elsewhere = runCli(['top', `${runner.httpUrl}/health`, '--once']);
    expect([await elsewhere.exited, elsewhere.stderr()]).toEqual([
      1,
      `streamrun: ${runner.httpUrl}/health is not a streamrun runner's HTTP server: GET /health/dashboard/snapshot answered 404\n`,
    ]);
    const notUrl = runCli(['top', 'localhost 8080']);
    expect([await notUrl.exited, notUrl.stderr()]).toEqual([1, "streamrun: localhost 8080: not a URL; expected the runner's, e.g. http://127.0.0.1:8080\n"]);
  });
});
