import { describe, expect, it } from 'vitest';
import { serdes, start, StreamrunError, topology, tumbling } from '../../lib/index.ts';
import { useStateDirs } from './helpers/claims.ts';
import { brokers, createTopic, partitionCount, produce, readAll, uniqueName, withAdmin } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';

const groupExists = (groupId: string) => withAdmin(async (admin) => (await admin.listGroups()).groups.some((g) => g.groupId === groupId));

describe('missing source topics', () => {
  const startRunner = useRunners();
  const stateDir = useStateDirs();

  it('are created with sourcePartitions and a warning; outputs get as many partitions; records then flow', async () => {
    const input = uniqueName('typo-in');
    const output = uniqueName('typo-out');
    const logger = collectingLogger();
    await startRunner(
      topology(uniqueName('typo')).stream(input, { key: serdes.string, value: serdes.string }).mapValues((v) => `${v}!`).to(output),
      { logger, sourcePartitions: 3, stateDir: await stateDir() },
    );
    expect(await partitionCount(input)).toBe(3);
    expect(await partitionCount(output)).toBe(3);
    expect(logger.lines.filter((l) => l.startsWith('warn '))).toEqual([`warn source topic ${input} did not exist: creating it with 3 partition(s)`]);
    await produce(input, Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
    // Keyed like its input, each output lands in its input's partition number.
    const inputs = await readAll(input, 30);
    expect(new Set(inputs.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
    expect((await readAll(output, 30)).map((r) => [r.partition, r.key, r.value])).toEqual(inputs.map((r) => [r.partition, r.key, `${r.value}!`]));
  });

  it('get 1 partition by default; a source that exists is not warned about', async () => {
    const missing = uniqueName('missing-in');
    const present = uniqueName('present-in');
    await createTopic(present, 2);
    const logger = collectingLogger();
    const app = topology(uniqueName('mixed'));
    app.stream(missing, { key: serdes.string, value: serdes.string }).to(uniqueName('out'));
    app.stream(present, { key: serdes.string, value: serdes.string }).to(uniqueName('out'));
    await startRunner(app, { logger, stateDir: await stateDir() });
    expect(await partitionCount(missing)).toBe(1);
    expect(await partitionCount(present)).toBe(2);
    expect(logger.lines.filter((l) => l.startsWith('warn '))).toEqual([`warn source topic ${missing} did not exist: creating it with 1 partition(s)`]);
  });
});

describe('stores without a name', () => {
  const startRunner = useRunners();
  const stateDir = useStateDirs();

  it('each log a warning at start-up (aggregation, windowed aggregation, table); named ones do not', async () => {
    const input = uniqueName('unnamed-in');
    const users = uniqueName('unnamed-users');
    await createTopic(input, 1);
    await createTopic(users, 1);
    const app = topology(uniqueName('unnamed'));
    const grouped = app.stream(input, { key: serdes.string, value: serdes.string }).groupByKey();
    grouped.count().toStream().to(uniqueName('out'));
    grouped.windowedBy(tumbling(1000)).reduce((a, b) => a + b).toStream().to(uniqueName('out'));
    grouped.count({ name: 'named-counts' }).toStream().to(uniqueName('out'));
    app.table(users, { key: serdes.string, value: serdes.string });
    app.table(uniqueName('named-users'), { key: serdes.string, value: serdes.string }, { name: 'named-table' });
    const logger = collectingLogger();
    await startRunner(app, { logger, stateDir: await stateDir() });

    const warning = (store: string) =>
      `warn store ${store} has a generated name: it changes when the topology does, and its state with it; pass { name }`;
    const unnamed = logger.lines.filter((l) => l.includes('has a generated name'));
    expect(unnamed.sort()).toEqual([warning('aggregate-1'), warning('aggregate-3'), warning('materialize-7')].sort());
  });
});

describe('the co-partition check of a join', () => {
  const stateDir = useStateDirs();

  it('refuses to start when the stream and the table have different partition counts, naming both', async () => {
    const clicks = uniqueName('clicks');
    const users = uniqueName('users');
    const output = uniqueName('joined');
    await createTopic(clicks, 2);
    await createTopic(users, 3);
    const appId = uniqueName('copart');
    const app = topology(appId);
    const table = app.table(users, { key: serdes.string, value: serdes.string }, { name: 'users' });
    app.stream(clicks, { key: serdes.string, value: serdes.string }).join(table, (c, u) => `${c}:${u}`).to(output);

    const failure = await start(app, { brokers: brokers(), logger: collectingLogger(), stateDir: await stateDir() }).then(
      async (runner) => {
        await runner.stop();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StreamrunError);
    expect((failure as StreamrunError).code).toBe('TOPIC_SETUP');
    // The sub-topology's sources in build order: the table's topic, then the stream's.
    expect((failure as StreamrunError).message).toBe(
      `a join needs co-partitioned topics, but their partition counts differ: ${users} (3), ${clicks} (2)`,
    );
    // It failed before joining the group.
    expect(await groupExists(appId)).toBe(false);
  });

  it('passes when both have the same count', async () => {
    const clicks = uniqueName('clicks');
    const users = uniqueName('users');
    await createTopic(clicks, 3);
    await createTopic(users, 3);
    const app = topology(uniqueName('copart-ok'));
    const table = app.table(users, { key: serdes.string, value: serdes.string }, { name: 'users' });
    app.stream(clicks, { key: serdes.string, value: serdes.string }).join(table, (c, u) => `${c}:${u}`).to(uniqueName('joined'));
    const runner = await start(app, { brokers: brokers(), logger: collectingLogger(), stateDir: await stateDir() });
    await runner.stop();
  });
});
