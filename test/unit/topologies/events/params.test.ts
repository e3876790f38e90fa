import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../topologies/events/event.ts';
import { decodeCursor, encodeCursor, listFilter, maxTime, minTime, time, type ListQuery } from '../../../../topologies/events/params.ts';

const refusal = (query: ListQuery) => {
  try {
    listFilter(query);
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  return undefined;
};
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('listFilter', () => {
  it('reads every parameter, limit 100 by default', () => {
    const cursor = encodeCursor({ ts: '2026-12-01T12:00:00.000Z', id: 'ev-1' });
    expect(listFilter({})).toEqual({ limit: 100 });
    expect(listFilter({ type: 't', source: 's', from: '0', to: '2026-12-01T13:00:00+01:00', cursor, limit: '1000' })).toEqual({
      type: 't',
      source: 's',
      from: new Date(0),
      to: new Date('2026-12-01T12:00:00Z'),
      after: { ts: '2026-12-01T12:00:00.000Z', id: 'ev-1' },
      limit: 1000,
    });
    expect(listFilter({ from: '2026-12-01', to: '2026-12-01' })).toEqual({ from: new Date('2026-12-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z'), limit: 100 });
  });

  it.each<[ListQuery, string]>([
    [{ type: 'a\u0000b' }, 'type'],
    [{ source: '\uD800' }, 'source'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limit: '1e400' }, 'limit'],
    [{ limit: '1e2' }, 'limit'],
    [{ limit: '10.0' }, 'limit'],
    [{ limit: '' }, 'limit'],
    [{ limit: '-1' }, 'limit'],
    [{ from: '99999999999999999999' }, 'from'],
    [{ to: '8640000000000001' }, 'to'],
    [{ from: '-271821-04-20T00:00:00Z' }, 'from'],
    [{ from: '2026-02-30' }, 'from'],
    [{ from: '2026-12-01T24:00:00Z' }, 'from'],
    [{ from: '2026-12-01T12:00:00' }, 'from'],
    [{ from: '2026-12-01T12:00:00+24:00' }, 'from'],
    [{ from: 'Tue, 01 Dec 2026' }, 'from'],
    [{ from: 'yesterday' }, 'from'],
    [{ from: '' }, 'from'],
    [{ from: '1e3' }, 'from'],
    [{ from: '2026-12-02', to: '2026-12-01' }, 'to'],
    [{ cursor: 'not a cursor!' }, 'cursor'],
    [{ cursor: cursorOf(['+275760-09-13T00:00:00.001Z', 'x']) }, 'cursor'],
    [{ cursor: cursorOf(['0000-12-31T00:00:00Z', 'x']) }, 'cursor'],
    [{ cursor: cursorOf(['2026-12-01T00:00:00Z', 'a\u0000b']) }, 'cursor'],
    [{ cursor: cursorOf(['2026-12-01T00:00:00Z', 1]) }, 'cursor'],
    [{ cursor: cursorOf(['2026-12-01T00:00:00Z']) }, 'cursor'],
    [{ cursor: cursorOf({ ts: '2026-12-01T00:00:00Z', id: 'x' }) }, 'cursor'],
  ])('refuses %j, naming %s', (query, field) => {
    expect(refusal(query)).toBe(field);
  });
});

describe('time', () => {
  it('takes years 1 to 9999, as ms or ISO 8601', () => {
    expect(time('from', String(minTime))).toEqual(new Date('0001-01-01T00:00:00Z'));
    expect(time('from', '0001-01-01')).toEqual(new Date(minTime));
    expect(time('to', '9999-12-31T23:59:59.999Z')).toEqual(new Date(maxTime));
    expect(time('to', '2024-02-29T23:59:59.123456-00:30')).toEqual(new Date('2024-03-01T00:29:59.123Z'));
    expect(() => time('to', String(maxTime + 1))).toThrow('to: expected an ISO 8601 date with a zone (2026-12-01T12:00:00Z) or ms since the epoch, from 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z');
    expect(() => time('from', String(minTime - 1))).toThrow(ValidationError);
  });
});

describe('cursors', () => {
  it('decode to what was encoded', () => {
    const cursor = { ts: '0001-01-01T00:00:00.000Z', id: 'emoji \uD83D\uDE00' };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });
});
