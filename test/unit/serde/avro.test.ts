import { describe, expect, it } from 'vitest';
import { serdes, StreamrunError } from '../../../lib/index.ts';

const reading = {
  type: 'record',
  name: 'Reading',
  namespace: 'sensors',
  fields: [
    { name: 'sensor', type: 'string' },
    { name: 'value', type: 'int' },
    { name: 'unit', type: ['null', 'string'], default: null },
  ],
} as const;

describe('serdes.avro', () => {
  const serde = serdes.avro(reading);

  it('writes Avro binary as the specification lays it out, and reads it back', () => {
    // Hand-encoded: "s1" is length 2 (zig-zag 0x04) then the bytes; 21 is zig-zag 0x2a; the
    // union's branch 1 (zig-zag 0x02) holds "C" (length 1, 0x02).
    const expected = Buffer.from([0x04, 0x73, 0x31, 0x2a, 0x02, 0x02, 0x43]);
    expect(serde.serialize({ sensor: 's1', value: 21, unit: 'C' })).toEqual(expected);
    expect({ ...serde.deserialize(expected) }).toEqual({ sensor: 's1', value: 21, unit: 'C' });
    expect(serde.name).toBe('avro(sensors.Reading)');
  });

  it('names the field at fault when a value does not fit the schema', () => {
    const write = () => serde.serialize({ sensor: 's1', value: 'warm' as unknown as number, unit: null });
    expect(write).toThrow(StreamrunError);
    expect(write).toThrow('cannot write value as Avro sensors.Reading: value: expected "int", got "warm"');
  });

  it('throws DESERIALIZATION for bytes that are not a Reading', () => {
    const read = () => serde.deserialize(Buffer.from('{"sensor":"s1"}'));
    expect(read).toThrow(expect.objectContaining({ code: 'DESERIALIZATION' }));
    expect(read).toThrow(/^bytes are not Avro sensors\.Reading: /);
  });

  it('refuses what is not a schema, in one line', () => {
    expect(() => serdes.avro({ type: 'record', name: 'R', fields: [{ name: 'x', type: 'integer' as 'int' }] })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: 'not an Avro schema: undefined type name: integer' }),
    );
  });
});
