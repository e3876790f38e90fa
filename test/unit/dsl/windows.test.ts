import { describe, expect, it } from 'vitest';
import { hopping, joinWindows, session, sliding, tumbling } from '../../../lib/dsl/windows.ts';

const invalid = (message: string) => expect.objectContaining({ name: 'StreamrunError', code: 'INVALID_TOPOLOGY', message });

describe('tumbling(size)', () => {
  it('makes windows that advance by their size, with no grace', () => {
    const w = tumbling(10_000);
    expect({ ...w, grace: undefined }).toEqual({ kind: 'time', size: 10_000, advance: 10_000, graceMs: 0, grace: undefined });
    expect(Object.isFrozen(w)).toBe(true);
  });

  it('accepts 1 ms, the smallest size', () => {
    expect(tumbling(1).size).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects %s', (size) => {
    expect(() => tumbling(size)).toThrow(invalid(`tumbling(size): expected a positive whole number of ms, got ${size}`));
  });
});

describe('hopping(size, advance)', () => {
  it('makes windows of size starting every advance', () => {
    expect(hopping(60_000, 10_000)).toMatchObject({ kind: 'time', size: 60_000, advance: 10_000, graceMs: 0 });
  });

  it('accepts an advance equal to the size (tumbling) and an advance of 1', () => {
    expect(hopping(5, 5)).toMatchObject({ size: 5, advance: 5 });
    expect(hopping(5, 1)).toMatchObject({ size: 5, advance: 1 });
  });

  it('rejects an advance greater than the size', () => {
    expect(() => hopping(5, 6)).toThrow(
      invalid('hopping(5, 6): the advance may not exceed the size, or records fall between windows'),
    );
  });

  it.each([0, -1, 2.5])('rejects the size %s', (size) => {
    expect(() => hopping(size, 1)).toThrow(invalid(`hopping(size): expected a positive whole number of ms, got ${size}`));
  });

  it.each([0, -1, 2.5])('rejects the advance %s', (advance) => {
    expect(() => hopping(10, advance)).toThrow(invalid(`hopping(advance): expected a positive whole number of ms, got ${advance}`));
  });
});

describe('session(gap)', () => {
  it('makes session windows with the gap and no grace', () => {
    const w = session(30_000);
    expect({ ...w, grace: undefined }).toEqual({ kind: 'session', gap: 30_000, graceMs: 0, grace: undefined });
    expect(Object.isFrozen(w)).toBe(true);
    expect(session(1).gap).toBe(1);
  });

  it.each([0, -1, 0.5])('rejects the gap %s', (gap) => {
    expect(() => session(gap)).toThrow(invalid(`session(gap): expected a positive whole number of ms, got ${gap}`));
  });
});

describe('.grace(ms)', () => {
  it('returns new windows with the grace, leaving the old ones as they were', () => {
    const base = hopping(1000, 250);
    const graced = base.grace(5000);
    expect(graced).toMatchObject({ kind: 'time', size: 1000, advance: 250, graceMs: 5000 });
    expect(base.graceMs).toBe(0);
    expect(Object.isFrozen(graced)).toBe(true);
    expect(graced.grace(7).graceMs).toBe(7);
    const s = session(100).grace(50);
    expect(s).toMatchObject({ kind: 'session', gap: 100, graceMs: 50 });
    expect(s.grace(1)).toMatchObject({ gap: 100, graceMs: 1 });
  });

  it('accepts 0', () => {
    expect(tumbling(10).grace(0).graceMs).toBe(0);
    expect(session(10).grace(0).graceMs).toBe(0);
  });

  it.each([-1, 1.5, Number.NaN])('rejects %s on time and session windows', (ms) => {
    const message = `grace(ms): expected a whole number of ms ≥ 0, got ${ms}`;
    expect(() => tumbling(10).grace(ms)).toThrow(invalid(message));
    expect(() => session(10).grace(ms)).toThrow(invalid(message));
  });
});

describe('sliding(timeDifference)', () => {
  it('makes sliding windows with the time difference and no grace, frozen', () => {
    const w = sliding(60_000);
    expect({ ...w, grace: undefined }).toEqual({ kind: 'sliding', timeDifference: 60_000, graceMs: 0, grace: undefined });
    expect(Object.isFrozen(w)).toBe(true);
    const graced = w.grace(5_000);
    expect(graced).toMatchObject({ kind: 'sliding', timeDifference: 60_000, graceMs: 5_000 });
    expect(w.graceMs).toBe(0);
  });

  it('accepts a time difference of 0, as Kafka Streams does: a window per distinct time', () => {
    expect(sliding(0).timeDifference).toBe(0);
  });

  it.each([-1, 1.5, Number.NaN])('rejects the time difference %s and the grace %s', (ms) => {
    expect(() => sliding(ms)).toThrow(invalid(`sliding(timeDifference): expected a whole number of ms ≥ 0, got ${ms}`));
    expect(() => sliding(10).grace(ms)).toThrow(invalid(`grace(ms): expected a whole number of ms ≥ 0, got ${ms}`));
  });
});

describe('joinWindows(timeDifference)', () => {
  it('reaches the time difference both ways, with no grace; before, after and grace give new windows', () => {
    const w = joinWindows(100);
    expect({ ...w, before: undefined, after: undefined, grace: undefined }).toEqual({
      kind: 'join',
      beforeMs: 100,
      afterMs: 100,
      graceMs: 0,
      before: undefined,
      after: undefined,
      grace: undefined,
    });
    expect(Object.isFrozen(w)).toBe(true);
    expect(w.before(0).grace(7)).toMatchObject({ beforeMs: 0, afterMs: 100, graceMs: 7 });
    expect(w.after(5).grace(7).before(3)).toMatchObject({ beforeMs: 3, afterMs: 5, graceMs: 7 });
    expect(w.beforeMs).toBe(100);
  });

  it('takes a negative before or after while the window stays at least a point, as Kafka Streams does', () => {
    expect(joinWindows(10).before(-10)).toMatchObject({ beforeMs: -10, afterMs: 10 });
    expect(() => joinWindows(10).after(-11)).toThrow(invalid('after(ms): before + after must be ≥ 0, or no record could join; got 10 + -11'));
    expect(() => joinWindows(0).before(-1)).toThrow(invalid('before(ms): before + after must be ≥ 0, or no record could join; got -1 + 0'));
  });

  it.each([-1, 1.5, Number.NaN])('rejects the time difference %s and such a grace', (ms) => {
    expect(() => joinWindows(ms)).toThrow(invalid(`joinWindows(timeDifference): expected a whole number of ms ≥ 0, got ${ms}`));
    expect(() => joinWindows(1).grace(ms)).toThrow(invalid(`grace(ms): expected a whole number of ms ≥ 0, got ${ms}`));
  });

  it('wants whole numbers for before and after', () => {
    expect(() => joinWindows(1).before(0.5)).toThrow(invalid('before(ms): expected a whole number of ms, got 0.5'));
    expect(() => joinWindows(1).after(Number.NaN)).toThrow(invalid('after(ms): expected a whole number of ms, got NaN'));
  });
});
