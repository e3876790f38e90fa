import { serdes, topology, type Topology } from 'streamrun';

/** Counts records per key into the store `counts`; `busyMicros` of CPU per record lets a signal land mid-batch. */
export function counter(appId: string, input: string, output: string, busyMicros = 0): Topology {
  return topology(appId)
    .stream(input, { key: serdes.string, value: serdes.string })
    .peek(() => {
      const until = process.hrtime.bigint() + BigInt(busyMicros * 1000);
      while (process.hrtime.bigint() < until);
    })
    .groupByKey()
    .count({ name: 'counts' })
    .toStream()
    .to(output, { value: serdes.json<number>() });
}

/** `n` records over `keys` keys, numbered from `first`, and the count each key should reach. */
export function keyedRecords(n: number, keys: number, first = 0): { key: string; value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ key: `key-${(first + i) % keys}`, value: `record ${first + i}` }));
}

export function countsOf(records: readonly { key: string }[]): Map<string, string> {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
  return new Map([...counts].map(([k, n]) => [k, String(n)]));
}
