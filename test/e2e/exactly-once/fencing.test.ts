import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli.ts';
import { useCleanup } from '../helpers/cleanup.ts';
import { brokers, createTopic, groupProgress, produce, uniqueName, waitForCommitted, waitForEndsToSettle } from '../helpers/kafka.ts';
import { countsOf, keyedRecords } from '../helpers/topologies.ts';
import { waitFor } from '../helpers/wait.ts';
import { readCommittedWithKcat, type KcatRecord } from '../helpers/kcat.ts';

const keys = 40;
const firstWave = 8000;
const secondWave = 2000;
/** CPU per record: a batch takes long enough that the freeze lands inside one. */
const busyMicros = 1500;

/** The tasks the runner's latest "assigned tasks" line in `text` names. */
function assigned(text: string, appId: string): string[] | undefined {
  const lines = [...text.matchAll(new RegExp(`${appId} assigned tasks: (.*)`, 'g'))];
  const last = lines.at(-1)?.[1];
  return last === undefined ? undefined : last === '(none)' ? [] : last.split(', ');
}

/**
 * Two moments to come back. Thawed as soon as B has its partitions (6 s session timeouts), A
 * goes on with its batch while B restores and takes up the same records. Thawed only after B
 * processed everything, old and new, A's late counts would come after the final ones. Either
 * way A is no longer in the group's generation: the offsets of its transaction are refused
 * (KIP-447) and the transaction aborts, so its writes never reach a read_committed reader.
 */
const cases = [
  { name: 'thawed as soon as B has them', sessionTimeout: ['--session-timeout', '6000'], thawAfterB: false },
  { name: 'thawed after B processed everything', sessionTimeout: [], thawAfterB: true },
] as const;

/** Each key's values in the order a consumer meets them (a key stays in its partition). */
function valuesByKey(records: readonly KcatRecord[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const r of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), r.payload!]);
  }
  return byKey;
}

describe('exactly-once: a frozen member is fenced', () => {
  const cleanup = useCleanup();

  it.each(cases)('A frozen mid-batch until B has all its partitions, $name: read_committed output holds every count once, none of A’s late writes', async ({ sessionTimeout, thawAfterB }) => {
    const appId = uniqueName('fence');
    const input = uniqueName('fence-in');
    const output = uniqueName('fence-out');
    await createTopic(input, 4);
    await createTopic(output, 4);
    const env = { APP_ID: appId, INPUT_TOPIC: input, OUTPUT_TOPIC: output, COUNTER_BUSY_MICROS: String(busyMicros), STREAMRUN_CLIENT: 'kafkats' };
    const guarantee = ['--guarantee', 'exactly-once', ...sessionTimeout];
    const start = async (name: string): Promise<CliRun> => {
      const run = runCli(['start', 'test/e2e/fixtures/counter.ts', '--brokers', brokers(), '--state-dir', await cleanup.tempDir(`streamrun-${name}-`), ...guarantee], env);
      // Whatever happens, no process outlives the test, frozen or not.
      cleanup.defer(() => {
        if (run.child.exitCode === null && run.child.signalCode === null) {
          run.child.kill('SIGCONT');
          run.child.kill('SIGKILL');
        }
      });
      return run;
    };

    const a = await start('a');
    await a.waitForOutput(new RegExp(`${appId} assigned tasks: 0_0, 0_1, 0_2, 0_3`), 90_000);
    const b = await start('b');
    const split = await waitFor(
      'a 2/2 split',
      () => {
        const mine = assigned(a.stderr(), appId);
        const theirs = assigned(b.stderr(), appId);
        return mine?.length === 2 && theirs?.length === 2 && { mine, theirs };
      },
      { timeoutMs: 90_000 },
    );
    expect([...split.mine, ...split.theirs].sort()).toEqual(['0_0', '0_1', '0_2', '0_3']);
    const aPartitions = split.mine.map((t) => Number(t.slice(2)));

    const first = keyedRecords(firstWave, keys);
    await produce(input, first);
    // Mid-batch: A has committed some of its partitions' records, and most are still to come.
    const atFreeze = await waitFor(
      'A under way on its partitions',
      async () => {
        const mine = (await groupProgress(appId, [input])).filter((p) => aPartitions.includes(p.partition));
        const done = mine.reduce((n, p) => n + Number(p.committed > 0n ? p.committed : 0n), 0);
        const all = mine.reduce((n, p) => n + Number(p.end), 0);
        return done > 0 && done < all / 2 && `${done} of ${all}`;
      },
      { timeoutMs: 90_000, intervalMs: 50 },
    );
    a.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    const bBefore = b.stderr().length;
    console.info(`A frozen with ${atFreeze} records of its partitions ${aPartitions.join(', ')} committed`);

    // The group gives A's partitions to B once A's session times out.
    await waitFor('B assigned all four tasks', () => assigned(b.stderr().slice(bBefore), appId)?.length === 4, { timeoutMs: 90_000 });
    console.info(`B took all four tasks ${Date.now() - frozenAt} ms after the freeze`);
    const second = keyedRecords(secondWave, keys, firstWave);
    await produce(input, second);
    if (thawAfterB) await waitForCommitted(appId, [input], 120_000);
    const aBefore = a.stderr().length;
    a.child.kill('SIGCONT');

    // A, thawed, finds it lost its partitions and joins again: the group splits the tasks anew.
    await waitFor('A back in the group', () => assigned(a.stderr().slice(aBefore), appId) !== undefined, { timeoutMs: 90_000 });
    await waitForCommitted(appId, [input], 120_000);
    await waitForEndsToSettle(output, { quietMs: 2000 });
    const truth = countsOf([...first, ...second]);
    // A transaction still open holds read_committed readers back: wait for the final counts, then judge what is there.
    const final = async () => valuesByKey(await readCommittedWithKcat(output));
    const seen = await waitFor('the final counts in the read_committed output', async () => {
      const byKey = await final();
      return [...truth].every(([k, n]) => byKey.get(k)?.at(-1) === n) && byKey;
    }, { timeoutMs: 30_000, intervalMs: 500 }).catch(final);
    // Each key's counts 1, 2, … n, each once and in order: a duplicate or a stale value is a write of A's that should have been fenced.
    const wrong = [...seen].flatMap(([k, values]) => {
      const n = Number(truth.get(k) ?? 0);
      const found = values.findIndex((v, i) => v !== String(i + 1));
      if (found === -1 && values.length === n) return [];
      const off = found === -1 ? Math.min(values.length, n) : found;
      // Where the sequence goes wrong: a value again (a duplicate) or an older one (stale).
      return [`${k}: ${values.length} values for ${n} records, from the ${off + 1}th: ${values.slice(off, off + 4).join(',')}…`];
    });
    const thawed = a.stderr().slice(aBefore).split('\n');
    console.info(`A after the thaw:\n${thawed.filter((l) => /WARN|ERROR|fenc|abort|generation/i.test(l)).slice(0, 8).join('\n')}`);
    console.info(`${seen.size} keys, ${[...seen.values()].reduce((n, v) => n + v.length, 0)} committed counts for ${firstWave + secondWave} records; wrong: ${wrong.length}`);
    expect(wrong).toEqual([]);
    expect(new Map([...seen].map(([k, v]) => [k, v.at(-1)]))).toEqual(truth);

    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    // Both ran transactions (exactly-once, not a fallback), as their stop lines count.
    for (const run of [a, b]) {
      const stopped = new RegExp(`${appId} stopped (\\{.*\\})`).exec(run.stderr())?.[1];
      expect((JSON.parse(stopped ?? '{}') as { transactions?: number }).transactions).toBeGreaterThan(0);
    }
  });
});
