import { StreamrunError } from '../errors/streamrun-error.ts';

/**
 * Confluent's wire format, which every registry serde (Java, librdkafka, this one) reads and
 * writes: a zero byte, the schema's id as a 4-byte big-endian integer, then the encoded value.
 */
const magic = 0;
const headerSize = 5;

export function withSchemaId(id: number, payload: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(headerSize + payload.length);
  framed[0] = magic;
  framed.writeInt32BE(id, 1);
  payload.copy(framed, headerSize);
  return framed;
}

/** The schema id the bytes name, or undefined when they are not in the wire format. */
export function schemaIdOf(data: Buffer): number | undefined {
  return data.length >= headerSize && data[0] === magic ? data.readInt32BE(1) : undefined;
}

/** The schema id and the value's bytes; bytes not in the wire format throw DESERIALIZATION. */
export function splitFramed(data: Buffer): { id: number; payload: Buffer } {
  const id = schemaIdOf(data);
  if (id === undefined) {
    const first = data.length === 0 ? 'no bytes' : `first byte 0x${data[0]!.toString(16).padStart(2, '0')}`;
    const hint = data[0] === 0x7b ? ' (it looks like JSON, written without a registry)' : '';
    throw new StreamrunError('DESERIALIZATION', `bytes are not in the schema registry's wire format: ${first}, expected 0x00 and a 4-byte schema id${hint}`);
  }
  return { id, payload: data.subarray(headerSize) };
}
