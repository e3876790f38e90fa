import { describe, expect, it } from 'vitest';
import { serdes, topology, type Runner } from '../../lib/index.ts';
import { runCli, type CliRun } from './helpers/cli.ts';
import { useStateDirs } from './helpers/claims.ts';
import { brokers, createTopic, latestByKey, produce, readAllSettled, uniqueName, waitForCommitted } from './helpers/kafka.ts';
import { getJson } from './helpers/http.ts';
import { useRunners } from './helpers/runners.ts';
import { keyedRecords, countsOf } from './helpers/topologies.ts';
import { waitFor } from './helpers/wait.ts';

const PARTITIONS = 6;
const text = { key: serdes.string, value: serdes.string };


interface Instance {
  readonly endpoint: string;
  readonly tasks: string[];
  readonly self: boolean;
}

describe('several instances of one application', () => {
  const startRunner = useRunners();
  const stateDir = useStateDirs();

  it('each task runs on one instance with all its topics’ partitions, and any instance answers for any key', async () => {
    const views = uniqueName('inst-views');
    const users = uniqueName('inst-users');
    const output = `${views}-joined`;
    // 4 partitions over 3 instances: Kafka's round-robin would give partition p of the two topics to different instances.
    await createTopic(views, 4);
    await createTopic(users, 4);
    const appId = uniqueName('instances');
    const app = () => {
      const t = topology(appId);
      const viewed = t.stream(views, text);
      viewed.join(t.table(users, text, { name: 'users' }), (view, region) => `${view}@${region}`).to(output, text);
      viewed.groupByKey().count({ name: 'views-per-user' });
      return t;
    };
    const runners: Runner[] = [];
    for (let i = 0; i < 3; i++) runners.push(await startRunner(app(), { port: 0, stateDir: await stateDir() }));
    // Once the group settled, each task runs once (while a rebalance goes on, the old owner lets go
    // only when it hears of it): with a topic-partition assignor, two instances would each open task 0_p for good.
    const settled = () => runners.flatMap((r) => r.tasks()).sort().join() === '0_0,0_1,0_2,0_3' && runners.every((r) => r.tasks().length > 0);
    await waitFor('each task on one instance, every instance with one', settled);

    await produce(users, Array.from({ length: 60 }, (_, u) => ({ key: `user-${u}`, value: `region-${u % 7}` })));
    const viewRecords = keyedRecords(1_200, 60).map((r) => ({ key: r.key.replace('key', 'user'), value: r.value }));
    await produce(views, viewRecords);
    const joined = await readAllSettled(output, { group: appId, inputs: [views, users] });
    expect(joined.map((r) => `${r.key} ${r.value}`).sort()).toEqual(
      viewRecords.map((r) => `${r.key} ${r.value}@region-${Number(r.key.slice(5)) % 7}`).sort(),
    );

    const truth = countsOf(viewRecords);
    for (const runner of runners) {
      const url = runner.httpUrl!;
      const stores = await getJson(`${url}/stores`);
      const instances = stores.body['instances'] as Instance[];
      expect(instances.filter((i) => i.self).map((i) => i.endpoint)).toEqual([url]);
      expect(instances.map((i) => i.endpoint).sort()).toEqual(runners.map((r) => r.httpUrl!).sort());
      expect(instances.flatMap((i) => i.tasks).sort()).toEqual(runners.flatMap((r) => r.tasks()).sort());
      for (const [key, count] of truth) {
        expect(await getJson(`${url}/stores/views-per-user/${key}`)).toEqual({ status: 200, body: { store: 'views-per-user', key, value: Number(count) } });
      }
      const missing = await getJson(`${url}/stores/views-per-user/user-999`);
      expect(missing).toEqual({
        status: 404,
        body: { error: 'not_found', message: 'No value for key "user-999" in store "views-per-user" in this application' },
      });
      // A range covers every instance's tasks, in key order.
      const range = await getJson(`${url}/stores/users?limit=1000`);
      expect((range.body['entries'] as { key: string }[]).map((e) => e.key)).toEqual(
        Array.from({ length: 60 }, (_, u) => `user-${u}`).sort(),
      );
    }
  });

  it('under load: one joins, one is SIGKILLed, one stops; nothing is lost, and the two left answer alike for every key', async () => {
    const input = uniqueName('inst-load');
    const output = `${input}-counts`;
    const appId = uniqueName('inst-load');
    await createTopic(input, PARTITIONS);
    const runs: CliRun[] = [];
    const launch = async () => {
      const run = runCli(['start', 'test/e2e/fixtures/counter.ts', '--brokers', brokers(), '--state-dir', await stateDir(), '--port', '0'], {
        APP_ID: appId,
        INPUT_TOPIC: input,
        OUTPUT_TOPIC: output,
      });
      runs.push(run);
      await run.waitForOutput(/ running \{/, 90_000);
      return { run, url: /"http":"([^"]+)"/.exec(run.stderr())![1]! };
    };
    try {
      const [a, b, c] = [await launch(), await launch(), await launch()];
      const records = keyedRecords(12_000, 40);
      let d: Awaited<ReturnType<typeof launch>> | undefined;
      for (let chunk = 0; chunk < 20; chunk++) {
        await produce(input, records.slice(chunk * 600, (chunk + 1) * 600));
        if (chunk === 4) d = await launch();
        if (chunk === 9) {
          b.run.child.kill('SIGKILL');
          await b.run.exited;
        }
        if (chunk === 14) {
          c.run.child.kill('SIGTERM');
          expect(await c.run.exited).toBe(0);
        }
      }
      await waitForCommitted(appId, [input], 120_000);
      const truth = countsOf(records);
      const latest = await latestByKey(output);
      const survivors = [a, d!];
      await waitFor('both survivors know who runs what', async () => {
        const views = await Promise.all(survivors.map(async (s) => (await getJson(`${s.url}/stores`)).body['instances'] as Instance[]));
        return views.every((v) => v.length === 2 && v.flatMap((i) => i.tasks).length === PARTITIONS);
      });
      let duplicates = 0;
      for (const [key, count] of truth) {
        const answers = await Promise.all(survivors.map((s) => getJson(`${s.url}/stores/counts/${key}`)));
        expect(answers.map((x) => x.status)).toEqual([200, 200]);
        const [fromA, fromD] = answers.map((x) => x.body['value'] as number);
        expect(fromA).toBe(fromD);
        // At least once: a record may count twice after the kill, never zero times.
        expect(fromA).toBeGreaterThanOrEqual(Number(count));
        expect(String(fromA)).toBe(latest.get(key));
        duplicates += fromA! - Number(count);
      }
      console.info(`counted ${duplicates} of ${records.length} records twice after the SIGKILL`);
      // Per key, in the order the output holds them: counts only go up, wherever the key's task ran.
      const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
      const byKey = new Map<string, number[]>();
      for (const r of outputs) byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), Number(r.value)]);
      for (const [key, counts] of byKey) {
        expect(counts.every((n, i) => i === 0 || n > counts[i - 1]!), `counts of ${key} rise`).toBe(true);
        expect(counts.at(-1)).toBe(Number(latest.get(key)));
      }
      expect(byKey.size).toBe(truth.size);
    } finally {
      for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    }
  });
});
