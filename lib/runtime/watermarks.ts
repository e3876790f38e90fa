import type { RecordHeaders } from '../graph/nodes.ts';
import type { OutputRecord } from '../kafka/client.ts';

/**
 * How a task tells the tasks after a repartition topic how far its event time has got. Every
 * record it writes there carries `streamrun.time` (`<writer partition>:<time>`); after each
 * commit it also writes a watermark record (no key, no value, `streamrun.watermark`) to every
 * partition, so a reader learns of progress even when no record goes its way. Both headers
 * exist only inside repartition topics: the reading task takes them off before user code,
 * sinks or dead letters see the record.
 */
export const TIME_HEADER = 'streamrun.time';
export const WATERMARK_HEADER = 'streamrun.watermark';

export interface WriterTime {
  readonly writer: number;
  readonly time: number;
}

export function writerTime(writer: number, time: number): string {
  return `${writer}:${time}`;
}

/** Reads a `<writer>:<time>` header; undefined when absent or not ours. */
export function readWriterTime(header: RecordHeaders[string]): WriterTime | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined) return undefined;
  const value = typeof text === 'string' ? text : text.toString('latin1');
  const colon = value.indexOf(':');
  if (colon <= 0) return undefined;
  const writer = Number(value.slice(0, colon));
  const time = Number(value.slice(colon + 1));
  if (!Number.isInteger(writer) || writer < 0 || Number.isNaN(time)) return undefined;
  return { writer, time };
}

/** The watermark records one writer sends to each partition of a repartition topic. */
export function watermarkRecords(writer: number, time: number, partitions: number): OutputRecord[] {
  const headers = { [WATERMARK_HEADER]: writerTime(writer, time) };
  const records: OutputRecord[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    records.push({ partition, key: null, value: null, headers });
  }
  return records;
}
