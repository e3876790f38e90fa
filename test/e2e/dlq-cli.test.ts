import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serdes, topology, type Topology } from '../../lib/index.ts';
import { runCli } from './helpers/cli.ts';
import {
  brokers,
  createTopic,
  deleteGroup,
  groupProgress,
  produce,
  readAll,
  readAllSettled,
  recordCount,
  uniqueName,
  waitForCommitted,
  type ReadRecord,
} from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';

interface Finished {
  readonly code: number | string;
  readonly out: string;
  readonly err: string;
}

async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Finished> {
  const run = runCli(args, env);
  const code = await run.exited;
  return { code, out: run.stdout(), err: run.stderr() };
}

/** `streamrun dlq <args> --brokers <the test broker>`. */
const dlq = (args: readonly string[], env: Record<string, string> = {}): Promise<Finished> =>
  cli(['dlq', ...args, '--brokers', brokers()], env);

const lines = (text: string) => text.trimEnd().split('\n');
const jsonLines = (text: string) => lines(text).map((l) => JSON.parse(l) as Record<string, unknown>);
const streamrunHeaders = (r: ReadRecord) => Object.keys(r.headers ?? {}).filter((h) => h.startsWith('streamrun.'));

/** `gate` throws on values starting with 'reject', `digest` on 'poison'; fixed, neither does. */
function app(appId: string, input: string, output: string, fixed: boolean): Topology {
  return topology(appId)
    .stream(input, { key: serdes.string, value: serdes.string })
    .filter((v) => {
      if (!fixed && v.startsWith('reject')) throw new TypeError(`gate rejects ${v}`);
      return true;
    }, { name: 'gate' })
    .mapValues((v) => {
      if (!fixed && v.startsWith('poison')) throw new RangeError(`cannot digest ${v}`);
      return v.toUpperCase();
    }, { name: 'digest' })
    .to(output);
}

describe('streamrun dlq', () => {
  const startRunner = useRunners();
  const appId = uniqueName('dlq-cli');
  const input = uniqueName('dlq-cli-in');
  const output = uniqueName('dlq-cli-out');
  const deadLetters = `${appId}-dlq`;
  const poison1At = '1700000000001';
  // Replay ids are consumer groups on the broker: one of its own per use, removed afterwards.
  const replayIds: string[] = [];
  const replayId = (name: string) => {
    const id = uniqueName(name);
    replayIds.push(id);
    return id;
  };
  afterAll(async () => {
    for (const id of replayIds) await deleteGroup(`streamrun-dlq-replay-${id}`);
  });

  // Dead letters made for real: the broken topology with no retries, then stopped.
  beforeAll(async () => {
    await createTopic(input, 2);
    const runner = await startRunner(app(appId, input, output, false), { errors: { retries: 0 } });
    // partition 0: offsets 0-3; partition 1: offsets 0-2
    await produce(input, [
      { partition: 0, key: 'k0', value: 'ok 0' },
      { partition: 0, key: 'k1', value: 'poison 1', timestamp: poison1At, headers: { trace: 't1' } },
      { partition: 0, key: 'k2', value: 'ok 2' },
      { partition: 0, key: 'k3', value: 'reject 3' },
      { partition: 1, key: 'k4', value: 'ok 4' },
      { partition: 1, key: 'k5', value: 'poison 5' },
      { partition: 1, key: 'k6', value: 'ok 6' },
    ]);
    await waitForCommitted(appId, [input]);
    expect(runner.stats()).toMatchObject({ consumed: 7, produced: 7, deadLettered: 3 });
    await runner.stop();
    expect([await recordCount(output), await recordCount(deadLetters)]).toEqual([4, 3]);
  });

  it('inspect --json lists every dead letter with where it came from and why', async () => {
    const { code, out, err } = await dlq(['inspect', deadLetters, '--json']);
    expect(code).toBe(0);
    const letters = jsonLines(out);
    expect(
      letters.map((l) => {
        const { dlq: at, original } = l as { dlq: Record<string, unknown>; original: Record<string, unknown> };
        return [at['partition'], at['offset'], original['topic'], original['partition'], original['offset'], l['node'], l['attempts'], l['errorClass'], l['errorMessage'], l['key'], l['value']];
      }),
    ).toEqual([
      [0, '0', input, 0, '1', 'digest', 1, 'RangeError', 'cannot digest poison 1', 'k1', 'poison 1'],
      [0, '1', input, 0, '3', 'gate', 1, 'TypeError', 'gate rejects reject 3', 'k3', 'reject 3'],
      [1, '0', input, 1, '1', 'digest', 1, 'RangeError', 'cannot digest poison 5', 'k5', 'poison 5'],
    ]);
    const first = letters[0]!;
    expect(first['appId']).toBe(appId);
    expect((first['original'] as Record<string, unknown>)['timestamp']).toBe(new Date(Number(poison1At)).toISOString());
    expect(first['deadLetteredAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(first['errorStack']).toMatch(/^RangeError: cannot digest poison 1\n\s+at /);
    expect(first['headers']).toMatchObject({ trace: 't1', 'streamrun.node': 'digest', 'streamrun.original.offset': '1' });
    expect(first).not.toHaveProperty('base64');
    expect(err).toBe('3 records, 3 shown\n');
  });

  it('inspect filters by --node and --error-class, prints a table and obeys --limit', async () => {
    const [gate, range, none, table, limited, narrow] = await Promise.all([
      dlq(['inspect', deadLetters, '--json', '--node', 'gate']),
      dlq(['inspect', deadLetters, '--json', '--error-class', 'RangeError']),
      dlq(['inspect', deadLetters, '--json', '--node', 'digest', '--error-class', 'TypeError']),
      dlq(['inspect', deadLetters]),
      dlq(['inspect', deadLetters, '--limit', '2']),
      dlq(['inspect', deadLetters, '--node', 'gate'], { COLUMNS: '60' }),
    ]);
    expect(jsonLines(gate.out).map((l) => l['value'])).toEqual(['reject 3']);
    expect(gate.err).toBe('3 records, 1 match, 1 shown\n');
    expect(jsonLines(range.out).map((l) => l['value'])).toEqual(['poison 1', 'poison 5']);
    expect(range.err).toBe('3 records, 2 match, 2 shown\n');
    expect([none.code, none.out, none.err]).toEqual([0, '', '3 records, 0 match, 0 shown\n']);

    const at = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
    expect(table.code).toBe(0);
    const rows = lines(table.out);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatch(/^DLQ +ORIGINAL +NODE +ATTEMPTS +ERROR +DEAD-LETTERED AT +MESSAGE$/);
    expect(rows[1]).toMatch(new RegExp(`^0/0 +${input}/0/1 +digest +1 +RangeError +${at} +cannot digest poison 1$`));
    expect(rows[2]).toMatch(new RegExp(`^0/1 +${input}/0/3 +gate +1 +TypeError +${at} +gate rejects reject 3$`));
    expect(rows[3]).toMatch(new RegExp(`^1/0 +${input}/1/1 +digest +1 +RangeError +${at} +cannot digest poison 5$`));
    expect(rows[4]).toBe('3 records, 3 shown');
    expect(lines(limited.out)).toHaveLength(4);
    expect(lines(limited.out)[3]).toBe('3 records, 2 shown (--limit 2)');
    // Too narrow for the whole message: it is cut to the 20 columns a message always gets.
    expect(lines(narrow.out)[1]).toMatch(/ gate rejects reject…$/);
  });

  it('inspect says when a topic is empty (exit 0) and when it does not exist (exit 1)', async () => {
    const empty = uniqueName('dlq-cli-empty');
    await createTopic(empty, 2);
    const missing = uniqueName('dlq-cli-missing');
    const [onEmpty, onMissing] = await Promise.all([dlq(['inspect', empty]), dlq(['inspect', missing, '--json'])]);
    expect([onEmpty.code, onEmpty.out, onEmpty.err]).toEqual([0, `${empty} is empty: no dead letters\n`, '']);
    expect([onMissing.code, onMissing.out, onMissing.err]).toEqual([1, '', `streamrun: topic ${missing} does not exist\n`]);
  });

  it('fix the cause, replay the DLQ: every dead-lettered record is processed once', async () => {
    // The fixed topology, same application id: it goes on after what the broken one committed.
    const runner = await startRunner(app(appId, input, output, true), { errors: { retries: 0 } });
    const id = replayId('fix');
    const first = await dlq(['replay', deadLetters, '--replay-id', id]);
    expect([first.code, first.out]).toEqual([0, 'replayed 3, skipped by filter 0, already replayed before 0\n']);
    // Not a terminal: nothing on stderr but (at most one a second) plain progress lines.
    expect(first.err.split('\n').filter((l) => l !== '' && !/^replaying: \d\/3$/.test(l))).toEqual([]);

    // The replay id's group committed the dead-letter topic's ends.
    expect((await groupProgress(`streamrun-dlq-replay-${id}`, [deadLetters])).map((p) => [p.partition, p.committed])).toEqual([
      [0, 2n],
      [1, 1n],
    ]);
    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(runner.stats()).toMatchObject({ consumed: 3, produced: 3, deadLettered: 0 });
    expect(outputs.map((r) => r.value).sort()).toEqual(['OK 0', 'OK 2', 'OK 4', 'OK 6', 'POISON 1', 'POISON 5', 'REJECT 3']);
    expect(outputs.flatMap(streamrunHeaders)).toEqual([]);

    // Back in the topic and partition they came from, after the originals, as they first were.
    const replayed = (await readAll(input, 10)).filter((r) => Number(r.offset) >= (r.partition === 0 ? 4 : 3));
    expect(replayed.map((r) => [r.partition, r.offset, r.key, r.value])).toEqual([
      [0, '4', 'k1', 'poison 1'],
      [0, '5', 'k3', 'reject 3'],
      [1, '3', 'k5', 'poison 5'],
    ]);
    expect(replayed.flatMap(streamrunHeaders)).toEqual([]);
    expect(String(replayed[0]!.headers?.['trace'])).toBe('t1');
    expect(replayed[0]!.timestamp).toBe(poison1At);

    // The same replay id again: nothing new.
    const again = await dlq(['replay', deadLetters, '--replay-id', id]);
    expect([again.code, again.out]).toEqual([0, 'replayed 0, skipped by filter 0, already replayed before 3\n']);
    expect(await recordCount(input)).toBe(10);
  });

  it('replays again under a new id, to --to, filtered by --where, or only says what it would do', async () => {
    const other = uniqueName('dlq-cli-other');
    const gateOnly = uniqueName('dlq-cli-gate');
    await Promise.all([createTopic(other, 1), createTopic(gateOnly, 1)]);
    const inputBefore = await recordCount(input);
    const dryId = replayId('dry');
    const [toOther, toGate, dry] = await Promise.all([
      dlq(['replay', deadLetters, '--to', other, '--replay-id', replayId('second')]),
      dlq(['replay', deadLetters, '--to', gateOnly, '--replay-id', replayId('gate-only'), '--where', 'node=gate']),
      dlq(['replay', deadLetters, '--dry-run', '--where', 'node=digest', '--where', 'error-class=RangeError', '--replay-id', dryId]),
    ]);
    expect([toOther.code, toOther.out]).toEqual([0, 'replayed 3, skipped by filter 0, already replayed before 0\n']);
    const inOther = await readAll(other, 3);
    expect(inOther).toHaveLength(3);
    expect(inOther.map((r) => r.value).sort()).toEqual(['poison 1', 'poison 5', 'reject 3']);
    expect(inOther.flatMap(streamrunHeaders)).toEqual([]);

    expect([toGate.code, toGate.out]).toEqual([0, 'replayed 1, skipped by filter 2, already replayed before 0\n']);
    expect((await readAll(gateOnly, 1)).map((r) => [r.key, r.value])).toEqual([['k3', 'reject 3']]);

    expect([dry.code, dry.out]).toEqual([
      0,
      `would replay ${deadLetters}/0/0 to ${input}/0\n` +
        `would replay ${deadLetters}/1/0 to ${input}/1\n` +
        'dry run: would replay 2, skipped by filter 1, already replayed before 0\n',
    ]);
    // A dry run sends and commits nothing.
    expect(await recordCount(input)).toBe(inputBefore);
    const stillNew = await dlq(['replay', deadLetters, '--dry-run', '--replay-id', dryId]);
    expect(lines(stillNew.out).at(-1)).toBe('dry run: would replay 3, skipped by filter 0, already replayed before 0');
  });

  it('follows the replay id "default" unless --replay-id names another', async () => {
    // Said by the help rather than used: the group streamrun-dlq-replay-default is shared by every test run on this broker.
    const help = await cli(['dlq', 'replay', '--help']);
    expect(help.code).toBe(0);
    expect(help.out.replace(/\s+/g, ' ')).toMatch(/--replay-id <id> names the progress: the same id never replays a dead letter twice \(default: "default"\)/);
  });

  it('fails with one line on stderr: bad --where, missing topics, no broker', async () => {
    const missing = uniqueName('dlq-cli-missing');
    const runs = await Promise.all([
      dlq(['replay', deadLetters, '--where', 'color=red']),
      dlq(['replay', missing]),
      dlq(['replay', deadLetters, '--to', missing]),
      dlq(['inspect', deadLetters, '--limit', 'lots']),
      cli(['dlq', 'replay', deadLetters, '--brokers', '127.0.0.1:1']),
    ]);
    expect(runs.slice(0, 4).map((r) => [r.code, r.out, r.err])).toEqual([
      [2, '', 'streamrun: --where: expected node=<name> or error-class=<name>, got "color=red"\n'],
      [1, '', `streamrun: topic ${missing} does not exist\n`],
      [1, '', `streamrun: topic ${missing} does not exist\n`],
      [2, '', 'streamrun: --limit: expected a positive integer, got "lots"\n'],
    ]);
    expect([runs[4]!.code, runs[4]!.out]).toEqual([1, '']);
    expect(runs[4]!.err).toMatch(/^streamrun: cannot reach Kafka at 127\.0\.0\.1:1: [^\n]+\n$/);
  });
});
