import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../topologies/events/event.ts';
import { compileLinePattern, eventFromLine } from '../../../../topologies/events/line.ts';
import { parseRecord } from '../../../../topologies/events/record.ts';

const defaults = { id: () => 'events.raw-0-7', source: 'kafka', timestamp: 1_000 };
const pattern = compileLinePattern(undefined);
const read = (line: string, with_ = pattern) => eventFromLine(line, with_, defaults);
const failure = (run: () => unknown): [string, string] | undefined => {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return [error.field, error.message];
    throw error;
  }
  return undefined;
};

describe('a log line read by the default pattern', () => {
  it('takes its level as the type, its time as the event time, and keeps the line and its message', () => {
    expect(read('2026-12-01T10:00:00.123Z ERROR disk full on /var')).toEqual({
      id: 'events.raw-0-7',
      type: 'ERROR',
      source: 'log',
      timestamp: Date.UTC(2026, 11, 1, 10, 0, 0, 123),
      payload: { message: 'disk full on /var', line: '2026-12-01T10:00:00.123Z ERROR disk full on /var' },
    });
  });

  it.each([
    ['2026-12-01T10:00:00Z INFO up', Date.UTC(2026, 11, 1, 10)],
    ['2026-12-01T11:00:00+01:00 INFO up', Date.UTC(2026, 11, 1, 10)],
    ['2026-12-01T11:00:00+0100 INFO up', Date.UTC(2026, 11, 1, 10)],
    ['2026-12-01 10:00:00,5 [INFO] up', Date.UTC(2026, 11, 1, 10, 0, 0, 500)],
    ['2026-12-01 10:00:00.123456789 INFO: up', Date.UTC(2026, 11, 1, 10, 0, 0, 123)],
    // No zone: UTC, whatever the machine's.
    ['2026-12-01T10:00:00 INFO up', Date.UTC(2026, 11, 1, 10)],
    ['1796119200000 INFO up', 1_796_119_200_000],
  ])('reads the time of %s', (line, ms) => {
    expect(read(line).timestamp).toBe(ms);
  });

  it('takes a line without a message', () => {
    expect(read('2026-12-01T10:00:00Z WARN').payload).toEqual({ line: '2026-12-01T10:00:00Z WARN' });
  });

  it('drops the line ending a producer left', () => {
    expect(read('2026-12-01T10:00:00Z WARN slow\r\n').payload).toEqual({ message: 'slow', line: '2026-12-01T10:00:00Z WARN slow' });
  });

  it.each(['disk full', 'not json at all', '', '2026-12-01T10:00:00Z', '10:00:00 ERROR disk full', '2026-12-01T10:00:00Z error lower case'])(
    'sends %j, which does not match, to the dead letters saying so',
    (line) => {
      expect(failure(() => read(line))).toEqual(['line', expect.stringContaining('line: did not match the pattern EVENTS_LINE_PATTERN (^(?<timestamp>')]);
    },
  );

  it('sends a time that names no instant to the dead letters', () => {
    expect(failure(() => read('2026-02-30T10:00:00Z ERROR no such day'))).toEqual(['timestamp', 'timestamp: "2026-02-30T10:00:00Z" is no ISO-8601 time or ms since the epoch']);
  });
});

describe('a log line read by a pattern of its own', () => {
  it('takes the record time and the "log" source when the pattern has no timestamp or source', () => {
    expect(read('door open', compileLinePattern('^(?<type>\\w+) (?<state>\\w+)$'))).toEqual({
      id: 'events.raw-0-7',
      type: 'door',
      source: 'log',
      timestamp: 1_000,
      payload: { state: 'open', line: 'door open' },
    });
  });

  it('takes the source from its group, and a numeric reading from a group named value', () => {
    const event = read('kitchen temperature 21.5C', compileLinePattern('^(?<source>\\S+) (?<type>\\S+) (?<value>.+)$'));
    expect([event.source, event.type, event.payload]).toEqual(['kitchen', 'temperature', { value: '21.5C', line: 'kitchen temperature 21.5C' }]);
  });

  it('sends a line whose type group matched nothing to the dead letters', () => {
    expect(failure(() => read('- x', compileLinePattern('^(?<type>[a-z]*)- x$')))?.[0]).toBe('type');
  });
});

describe('compileLinePattern', () => {
  it.each([
    ['(?<type>', /^EVENTS_LINE_PATTERN: not a regular expression \(Invalid regular expression: .*\)$/],
    ['^(\\w+) (.*)$', /^EVENTS_LINE_PATTERN: needs a named group \(\?<type>\.\.\.\) for the event type, in \^/],
    ['^(?<kind>\\w+)$', /needs a named group \(\?<type>/],
    // Looks like a group named type, but the parenthesis is a literal one.
    ['\\(?<type>\\w+', /needs a named group \(\?<type>/],
    ['^(?<type>\\w+) (?<line>.*)$', /^EVENTS_LINE_PATTERN: a group may not be named "line"/],
  ])('refuses %s in one line naming the variable', (text, message) => {
    expect(() => compileLinePattern(text)).toThrow(message);
    expect(() => compileLinePattern(text)).not.toThrow(/\n/);
  });

  it('takes the default for an unset or empty variable', () => {
    expect(compileLinePattern('').source).toBe(pattern.source);
  });
});

describe('parseRecord', () => {
  const record = (text: string) => parseRecord(Buffer.from(text), defaults, pattern);

  it('reads a JSON event as before, with its defaults', () => {
    expect(record('{"type":"t","payload":"30C"}')).toEqual({ id: 'events.raw-0-7', type: 't', source: 'kafka', timestamp: 1_000, payload: '30C' });
  });

  it.each([
    ['{oops', ['event', expect.stringMatching(/^event: not JSON/)]],
    ['[{"type":"t"}]', ['event', 'event: expected a JSON object']],
    ['{"payload":1}', ['type', 'type: is required']],
  ])('refuses %s as before', (text, expected) => {
    expect(failure(() => record(text))).toEqual(expected);
  });

  it('reads anything else as a log line, a JSON text or number among them', () => {
    expect(record('2026-12-01T10:00:00Z ERROR disk full').type).toBe('ERROR');
    expect(failure(() => record('"just text"'))?.[0]).toBe('line');
    expect(failure(() => record('42'))?.[0]).toBe('line');
  });

  it('reads a line opening with [ as a line, not as broken JSON', () => {
    const bracketed = compileLinePattern('^\\[(?<timestamp>[^\\]]+)\\] (?<type>[A-Z]+) (?<message>.*)$');
    expect(parseRecord(Buffer.from('[2026-12-01 10:00:00] WARN slow'), defaults, bracketed)).toMatchObject({
      type: 'WARN',
      timestamp: Date.UTC(2026, 11, 1, 10),
      payload: { message: 'slow' },
    });
  });
});
