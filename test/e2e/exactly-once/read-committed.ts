import { spawn } from 'node:child_process';
import { brokers } from '../helpers/kafka.ts';

export interface CommittedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: string;
}

/**
 * Everything a read_committed consumer sees in `topic` now, read by kcat (librdkafka), a client
 * nobody here wrote: up to each partition's last stable offset, then it exits. Records of a
 * transaction still open are not there yet; aborted ones never are. Keys and values must hold
 * no tab or newline.
 */
export async function readCommitted(topic: string): Promise<CommittedRecord[]> {
  const child = spawn(
    'kcat',
    ['-b', brokers(), '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%p\\t%o\\t%k\\t%s\\n'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`kcat exited ${code}: ${err}`);
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [partition, offset, key, value] = line.split('\t');
      return { partition: Number(partition), offset: Number(offset), key: key!, value: value! };
    })
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** Each key's values in the order a consumer meets them (a key stays in its partition). */
export function valuesByKey(records: readonly CommittedRecord[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const r of records) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.value]);
  return byKey;
}
