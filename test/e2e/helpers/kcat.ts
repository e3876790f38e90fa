import { spawn } from 'node:child_process';
import { brokers } from './kafka.ts';

/**
 * Reading and writing with kcat (librdkafka), a client nobody here wrote. A read_committed
 * reader does not see what an aborted transaction wrote, and what an open one wrote holds it
 * back until the transaction ends.
 */

export interface KcatRecord {
  partition: number;
  offset: number;
  /** Milliseconds since the epoch. */
  ts: number;
  key: string | null;
  payload: string | null;
}

const committed = ['-X', 'isolation.level=read_committed'];

function kcat(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`kcat ${args.join(' ')} exited ${code}: ${err}`))));
    if (input !== undefined) child.stdin!.end(input);
  });
}

/**
 * Every committed record of `topic` (or of one partition), in partition and offset order. A line
 * that is not JSON fails the read with the line; the read is tried again twice (once, with both
 * cores busy, one kcat run printed a line that did not parse; it did not happen again).
 */
export async function readCommitted(brokers: string, topic: string, partition?: number, from = 'beginning'): Promise<KcatRecord[]> {
  const where = partition === undefined ? [] : ['-p', String(partition)];
  for (let attempt = 1; ; attempt++) {
    const out = await kcat(['-C', '-b', brokers, '-t', topic, ...where, '-o', from, '-e', '-q', '-J', ...committed]);
    try {
      const records = out
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          try {
            return JSON.parse(line) as KcatRecord;
          } catch (error) {
            throw new Error(`kcat printed a line of ${topic} that is not JSON (${(error as Error).message}): ${line.slice(0, 500)}`);
          }
        });
      return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    } catch (error) {
      if (attempt === 3) throw error;
      console.log(`chaos: ${(error as Error).message}; reading ${topic} again`);
    }
  }
}

/**
 * How many committed records `topic` holds (one byte per record: cheap enough to poll); with
 * `uncommitted`, every record a read_uncommitted reader sees, aborted writes included.
 */
export async function countCommitted(brokers: string, topic: string, { uncommitted = false } = {}): Promise<number> {
  const isolation = uncommitted ? ['-X', 'isolation.level=read_uncommitted'] : committed;
  return (await kcat(['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '.', ...isolation])).length;
}

/** Writes `key<TAB>value` to one partition with a plain (non-transactional) producer, acks=all. */
export async function writePlain(brokers: string, topic: string, partition: number, key: string, value: string): Promise<void> {
  await kcat(['-P', '-b', brokers, '-t', topic, '-p', String(partition), '-K', '\t', '-X', 'acks=all'], `${key}\t${value}\n`);
}

/** What one output topic got, against the truth. */

/** Every record of `topic` a read_committed reader sees, on the test's brokers. */
export function readCommittedWithKcat(topic: string): Promise<KcatRecord[]> {
  return readCommitted(brokers(), topic);
}
