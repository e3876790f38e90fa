import type { RecordContext, RecordHeaders } from '../graph/nodes.ts';
import type { InputRecord } from '../kafka/client.ts';

export const noHeaders: RecordHeaders = Object.freeze({});

/**
 * One per task, refilled for every record instead of allocating a context per record; that is
 * why user functions may read it only during their call.
 */
/** A copy of one record's context, for work that outlives the synchronous pass (an enrich call). */
export interface RecordContextSnapshot extends RecordContext {
  readonly rawTimestamp: string;
  readonly writer: number;
  readonly watermark: number | undefined;
}

export class MutableRecordContext implements RecordContext {
  topic = '';
  partition = -1;
  offset = '';
  timestamp = 0;
  /** As the broker sent it: outputs carry it on unchanged. */
  rawTimestamp = '0';
  headers: RecordHeaders = noHeaders;
  /** For a record of a repartition topic: the partition of the task that wrote it, and that task's event time then. */
  writer = 0;
  watermark: number | undefined = undefined;

  load(topic: string, partition: number, record: InputRecord): void {
    this.topic = topic;
    this.partition = partition;
    this.offset = record.offset;
    this.rawTimestamp = record.timestamp;
    this.timestamp = Number(record.timestamp);
    this.headers = record.headers ?? noHeaders;
    this.writer = 0;
    this.watermark = undefined;
  }

  /** Stamps what follows with another time (a window's newest record's); `restore` undoes it. */
  stamp(timestamp: number): void {
    this.timestamp = timestamp;
    this.rawTimestamp = String(timestamp);
  }

  snapshot(): RecordContextSnapshot {
    const { topic, partition, offset, timestamp, rawTimestamp, headers, writer, watermark } = this;
    return { topic, partition, offset, timestamp, rawTimestamp, headers, writer, watermark };
  }

  restore(snapshot: RecordContextSnapshot): void {
    this.topic = snapshot.topic;
    this.partition = snapshot.partition;
    this.offset = snapshot.offset;
    this.timestamp = snapshot.timestamp;
    this.rawTimestamp = snapshot.rawTimestamp;
    this.headers = snapshot.headers;
    this.writer = snapshot.writer;
    this.watermark = snapshot.watermark;
  }
}
