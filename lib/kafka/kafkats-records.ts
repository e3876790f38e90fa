import { Decoder, crc32c, decodeRecordBatchFrom } from '@kafkats/client';
import type { RecordHeaders } from '../graph/nodes.ts';
import type { InputRecord } from './client.ts';

/**
 * A fetched partition's bytes (record batches, format v2) as the runtime's records. Uncompressed
 * batches are read here straight into `InputRecord`s, one object per record with the decimal
 * strings the runtime uses; @kafkats/client's own decoder makes bigint records first, which
 * costs a second object and two bigint conversions per record. Compressed batches go through
 * its decoder (it has the codecs).
 */

export interface DecodedPartition {
  readonly records: InputRecord[];
  /** The last offset the bytes held, transaction markers and skipped records included; -1n when none. */
  readonly lastOffset: bigint;
}

export interface AbortedTransaction {
  readonly producerId: bigint;
  readonly firstOffset: bigint;
}

const BATCH_HEADER = 61;
const COMPRESSION = 0x07;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;
const LOG_APPEND_TIME = 0x08;

/**
 * Records at or after `from` (a compressed batch starts where its first record does, which may
 * be before), without those of aborted transactions (read_committed: `aborted` is the fetch
 * answer's list) and without control records.
 */
export async function decodePartition(
  bytes: Buffer | null,
  from: bigint,
  aborted: readonly AbortedTransaction[],
  verifyCrc: boolean,
): Promise<DecodedPartition> {
  const records: InputRecord[] = [];
  let lastOffset = -1n;
  if (bytes === null) return { records, lastOffset };
  const pending = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortedProducers = new Set<bigint>();
  let at = 0;
  // A response may end in a batch cut short by the size limit: it is fetched whole next time.
  while (at + 12 <= bytes.length) {
    const size = bytes.readInt32BE(at + 8);
    const end = at + 12 + size;
    if (end > bytes.length || size < BATCH_HEADER - 12) break;
    const baseOffset = bytes.readBigInt64BE(at);
    const magic = bytes.readInt8(at + 16);
    if (magic !== 2) throw new Error(`record batch at offset ${baseOffset}: magic ${magic} (only format v2 is read)`);
    if (verifyCrc && bytes.readUInt32BE(at + 17) !== crc32c(bytes, at + 21, end - at - 21) >>> 0) {
      throw new Error(`record batch at offset ${baseOffset}: CRC mismatch (corrupt data)`);
    }
    const attributes = bytes.readInt16BE(at + 21);
    const lastDelta = bytes.readInt32BE(at + 23);
    const batchLast = baseOffset + BigInt(lastDelta);
    if (batchLast > lastOffset) lastOffset = batchLast;
    const producerId = bytes.readBigInt64BE(at + 43);
    while (pending.length > 0 && pending[0]!.firstOffset <= batchLast) abortedProducers.add(pending.shift()!.producerId);
    if ((attributes & CONTROL) !== 0) {
      // An abort marker ends its producer's aborted transaction; a commit marker changes nothing.
      if (isAbortMarker(bytes, at, end)) abortedProducers.delete(producerId);
    } else if ((attributes & TRANSACTIONAL) === 0 || !abortedProducers.has(producerId)) {
      if ((attributes & COMPRESSION) === 0) readRecords(bytes, at, end, baseOffset, attributes, from, records);
      else await readCompressed(bytes.subarray(at, end), from, records);
    }
    at = end;
  }
  return { records, lastOffset };
}

/** A control batch's one record: key = int16 version, int16 type (0 abort, 1 commit). */
function isAbortMarker(bytes: Buffer, at: number, end: number): boolean {
  const reader = new VarReader(bytes, at + BATCH_HEADER);
  reader.varint(); // length
  reader.pos += 1; // attributes
  reader.varlong();
  reader.varint();
  const keyLength = reader.varint();
  return keyLength >= 4 && reader.pos + 4 <= end && bytes.readInt16BE(reader.pos + 2) === 0;
}

function readRecords(bytes: Buffer, at: number, end: number, baseOffset: bigint, attributes: number, from: bigint, out: InputRecord[]): void {
  const baseTimestamp = Number(bytes.readBigInt64BE(at + 27));
  const appendTime = (attributes & LOG_APPEND_TIME) !== 0 ? String(bytes.readBigInt64BE(at + 35)) : undefined;
  const count = bytes.readInt32BE(at + 57);
  const base = Number(baseOffset);
  const skipBefore = Number(from) - base;
  const reader = new VarReader(bytes, at + BATCH_HEADER);
  for (let i = 0; i < count && reader.pos < end; i++) {
    const length = reader.varint();
    const next = reader.pos + length;
    reader.pos += 1;
    const timestampDelta = reader.varlong();
    const offsetDelta = reader.varint();
    if (offsetDelta < skipBefore) {
      reader.pos = next;
      continue;
    }
    const key = reader.bytes();
    const value = reader.bytes();
    const headerCount = reader.varint();
    let headers: Record<string, Buffer | Buffer[] | undefined> | undefined;
    for (let h = 0; h < headerCount; h++) {
      const name = reader.text();
      const content = reader.bytes() ?? undefined;
      headers ??= {};
      addHeader(headers, name, content);
    }
    if (reader.pos !== next) throw new Error(`record at offset ${base + offsetDelta}: its length says ${length} bytes, it held ${reader.pos - next + length}`);
    const record: { key: Buffer | null; value: Buffer | null; timestamp: string; offset: string; headers?: RecordHeaders } = {
      key,
      value,
      timestamp: appendTime ?? String(baseTimestamp + timestampDelta),
      offset: String(base + offsetDelta),
    };
    if (headers !== undefined) record.headers = headers;
    out.push(record);
  }
}

async function readCompressed(batch: Buffer, from: bigint, out: InputRecord[]): Promise<void> {
  const decoded = await decodeRecordBatchFrom(new Decoder(batch), { verifyCrc: false });
  for (const r of decoded.records) {
    if (r.offset < from) continue;
    let headers: Record<string, Buffer | Buffer[] | undefined> | undefined;
    for (const h of r.headers) addHeader((headers ??= {}), h.key, h.value ?? undefined);
    const record: { key: Buffer | null; value: Buffer | null; timestamp: string; offset: string; headers?: RecordHeaders } = {
      key: r.key,
      value: r.value,
      timestamp: String(r.timestamp),
      offset: String(r.offset),
    };
    if (headers !== undefined) record.headers = headers;
    out.push(record);
  }
}

/** A header that repeats becomes an array of its values, in order, as KafkaJS gives it. */
function addHeader(headers: Record<string, Buffer | Buffer[] | undefined>, name: string, content: Buffer | undefined): void {
  if (!(name in headers)) {
    headers[name] = content;
    return;
  }
  const before = headers[name];
  const values: Buffer[] = Array.isArray(before) ? before : before === undefined ? [] : [before];
  if (content !== undefined) values.push(content);
  headers[name] = values;
}

/** Zig-zag varints of Kafka's record format, read in place. */
class VarReader {
  constructor(
    readonly buffer: Buffer,
    public pos: number,
  ) {}

  varint(): number {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.buffer[this.pos++]!;
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while ((byte & 0x80) !== 0 && shift < 35);
    return (result >>> 1) ^ -(result & 1);
  }

  /** Timestamp deltas fit a double: read as a number, not a bigint. */
  varlong(): number {
    let result = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = this.buffer[this.pos++]!;
      result += (byte & 0x7f) * scale;
      scale *= 128;
    } while ((byte & 0x80) !== 0 && scale < 2 ** 63);
    // Zig-zag: an odd raw value is negative.
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }

  bytes(): Buffer | null {
    const length = this.varint();
    if (length < 0) return null;
    const start = this.pos;
    this.pos += length;
    return this.buffer.subarray(start, this.pos);
  }

  text(): string {
    const length = this.varint();
    const start = this.pos;
    this.pos += length;
    return this.buffer.toString('utf8', start, this.pos);
  }
}
