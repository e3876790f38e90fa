import type { OutputRecord } from './client.ts';

/**
 * A broker refuses a record batch over its `message.max.bytes` (1 MiB by default), and KafkaJS
 * and kafkats put all of a send's records for one partition into one batch: a task's commit of
 * thousands of records to its partition would be refused. So sends are cut into requests
 * (KafkaJS) or per-partition batches (kafkats) of at most this many bytes of keys, values and
 * headers (plus a per-record allowance).
 */
export const maxRequestBytes = 768 * 1024;
const recordOverhead = 64;

/** The bytes a record takes in a request, roughly: keys, values and headers, plus a per-record allowance. */
export function recordSize(record: OutputRecord): number {
  let size = recordOverhead + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    for (const part of Array.isArray(value) ? value : [value]) size += name.length + (part?.length ?? 0);
  }
  return size;
}
