import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { brokers } from './kafka.ts';

const run = promisify(execFile);

export interface CommittedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
}

/**
 * Every record of `topic` a read_committed reader sees, read by kcat (librdkafka), a client
 * nobody here wrote: what an aborted transaction wrote is not there, and what an open one
 * wrote holds the reader back until it ends.
 */
export async function readCommittedWithKcat(topic: string): Promise<CommittedRecord[]> {
  const { stdout } = await run(
    'kcat',
    ['-C', '-b', brokers(), '-t', topic, '-o', 'beginning', '-e', '-J', '-q', '-X', 'isolation.level=read_committed'],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const r = JSON.parse(line) as { partition: number; offset: number; key: string | null; payload: string | null };
      return { partition: r.partition, offset: r.offset, key: r.key, value: r.payload };
    });
}
