import { describe, expect, it } from 'vitest';
import { parseEvent, ValidationError } from '../../../../topologies/events/event.ts';

const defaults = { id: () => 'generated', source: 'kafka', timestamp: 0 };
const fieldOf = (json: string) => {
  try {
    parseEvent(Buffer.from(json), defaults);
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  return undefined;
};

describe('parseEvent', () => {
  it.each([
    ['{"type":"a\\u0000b"}', 'type'],
    ['{"type":"t","id":"\\u0000"}', 'id'],
    ['{"type":"t","source":"\\udc00"}', 'source'],
    ['{"type":"t","payload":{"list":["ok","\\u0000"]}}', 'payload.list[1]'],
    ['{"type":"t","payload":-1e400}', 'payload'],
    [`{"type":"t","payload":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, `payload${'[0]'.repeat(64)}`],
  ])('sends %s, which PostgreSQL cannot store, to the dead letters naming %s', (json, field) => {
    expect(fieldOf(json)).toBe(field);
  });

  it('takes an event PostgreSQL can store', () => {
    expect(parseEvent(Buffer.from('{"type":"t","payload":{"v":"\\ud83d\\ude00","n":1e308}}'), defaults)).toEqual({
      id: 'generated',
      type: 't',
      source: 'kafka',
      timestamp: 0,
      payload: { v: '\uD83D\uDE00', n: 1e308 },
    });
  });
});
