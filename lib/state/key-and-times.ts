import type { Serde } from '../serde/serde.ts';

/**
 * Lays a store key out as [key length][key][first][second], the two numbers as signed 64-bit
 * big-endian integers: one key's entries sit together, in the order of the numbers, so a range
 * scan by key and time stays one LevelDB range. Window stores and join buffers use it.
 */
export function keyAndTimesSerde<T>(
  name: string,
  keySerde: Serde<unknown>,
  parts: (entry: T) => readonly [key: unknown, first: number, second: number],
  build: (key: unknown, first: number, second: number) => T,
): Serde<T> {
  return {
    name: `${name}(${keySerde.name})`,
    serialize(entry) {
      const [key, first, second] = parts(entry);
      const keyBytes = keySerde.serialize(key);
      const bytes = Buffer.allocUnsafe(4 + keyBytes.length + 16);
      bytes.writeUInt32BE(keyBytes.length, 0);
      keyBytes.copy(bytes, 4);
      bytes.writeBigInt64BE(BigInt(first), 4 + keyBytes.length);
      bytes.writeBigInt64BE(BigInt(second), 12 + keyBytes.length);
      return bytes;
    },
    deserialize(bytes) {
      const length = bytes.readUInt32BE(0);
      return build(
        keySerde.deserialize(bytes.subarray(4, 4 + length)),
        Number(bytes.readBigInt64BE(4 + length)),
        Number(bytes.readBigInt64BE(12 + length)),
      );
    },
  };
}
