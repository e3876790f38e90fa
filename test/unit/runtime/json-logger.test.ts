import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonLogger } from '../../../lib/runtime/json-logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('jsonLogger()', () => {
  it('writes one object per event: level by name, ISO time, msg and the fields', () => {
    const { lines, stream } = capture();
    const logger = jsonLogger('info', stream);
    logger.info('relay running', { brokers: ['kafka:9092'], partitions: 3 });
    logger.warn('plain');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'relay running', brokers: ['kafka:9092'], partitions: 3, pid: process.pid });
    expect(new Date(lines[0]!['time'] as string).toISOString()).toBe(lines[0]!['time']);
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'plain' });
  });

  it('keeps what is below its level out', () => {
    const { lines, stream } = capture();
    const logger = jsonLogger('warn', stream);
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(lines.map((l) => [l['level'], l['msg']])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
    ]);
  });

  it('writes an Error in the fields as its type, message and stack, not as {}', () => {
    const { lines, stream } = capture();
    jsonLogger('info', stream).error('send failed', { error: new RangeError('too big') });
    const error = lines[0]!['error'] as Record<string, unknown>;
    expect([error['type'], error['message']]).toEqual(['RangeError', 'too big']);
    expect(String(error['stack'])).toMatch(/^RangeError: too big\n\s+at /);
  });
});
