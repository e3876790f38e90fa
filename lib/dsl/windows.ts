import { invalid } from './naming.ts';

/**
 * Time windows for `windowedBy`: fixed-size windows that start every `advance` ms (tumbling:
 * advance = size), accepting records until `grace` ms of stream time after their end.
 *
 * @example
 * tumbling(10_000).grace(5_000);   // [0, 10s), [10s, 20s), … open until 5 s past their end
 * hopping(60_000, 10_000);         // one-minute windows, a new one every 10 s
 */
export interface TimeWindows {
  readonly kind: 'time';
  readonly size: number;
  readonly advance: number;
  readonly graceMs: number;
  /** The same windows, open for `ms` of stream time after their end for late records. */
  grace(ms: number): TimeWindows;
}

/**
 * Session windows: a key's records at most `gap` ms apart form one session, which grows as
 * records come and merges with a neighbour a record bridges; `end` is the time of its last
 * record. A session closes once stream time reaches `end + gap + grace` (until then a record
 * within `gap` of it can still join it), as in Kafka Streams.
 *
 * @example
 * session(30 * 60_000).grace(60_000); // visits: activity with pauses under 30 minutes
 */
export interface SessionWindows {
  readonly kind: 'session';
  readonly gap: number;
  readonly graceMs: number;
  grace(ms: number): SessionWindows;
}

export function session(gapMs: number): SessionWindows {
  return sessionWindows(positive('session(gap)', gapMs), 0);
}

function sessionWindows(gap: number, graceMs: number): SessionWindows {
  return Object.freeze({
    kind: 'session' as const,
    gap,
    graceMs,
    grace: (ms: number) => sessionWindows(gap, nonNegative('grace(ms)', ms)),
  });
}

/**
 * Sliding windows, as Kafka Streams' `SlidingWindows`: every record at time t makes the window
 * [t - timeDifference, t], ends included, and each window holds the records within
 * `timeDifference` of each other (a record also starts the window at t + 1 when a later record
 * falls in it). Windows exist only where records are, unlike hopping windows that step by a
 * fixed advance. A window takes records until stream time passes its end plus the grace.
 *
 * @example
 * sliding(60_000).grace(10_000); // per key: the records of every minute-long span that has any
 */
export interface SlidingWindows {
  readonly kind: 'sliding';
  readonly timeDifference: number;
  readonly graceMs: number;
  grace(ms: number): SlidingWindows;
}

/** Sliding windows holding the records at most `timeDifferenceMs` apart, with no grace. */
export function sliding(timeDifferenceMs: number): SlidingWindows {
  return slidingWindows(nonNegative('sliding(timeDifference)', timeDifferenceMs), 0);
}

function slidingWindows(timeDifference: number, graceMs: number): SlidingWindows {
  return Object.freeze({
    kind: 'sliding' as const,
    timeDifference,
    graceMs,
    grace: (ms: number) => slidingWindows(timeDifference, nonNegative('grace(ms)', ms)),
  });
}

/**
 * How far apart in time two records of a stream–stream join may be, as Kafka Streams'
 * `JoinWindows`: a left record at t joins the right records of its key in
 * [t - before, t + after] (and so a right record at t the left ones in [t - after, t + before]).
 * Records are taken until stream time passes a record's window end plus the grace; a left or
 * outer join passes a record without a partner on, with null, once its window has closed.
 *
 * @example
 * joinWindows(60_000);                       // partners at most a minute apart, either way
 * joinWindows(60_000).before(0).grace(5_000); // right records in the minute after a left one
 */
export interface JoinWindows {
  readonly kind: 'join';
  readonly beforeMs: number;
  readonly afterMs: number;
  readonly graceMs: number;
  /** The same windows, reaching `ms` back from a left record (may be negative if after + before stays ≥ 0). */
  before(ms: number): JoinWindows;
  /** The same windows, reaching `ms` forward from a left record (may be negative if after + before stays ≥ 0). */
  after(ms: number): JoinWindows;
  /** The same windows, taking records `ms` of stream time past their window's end. */
  grace(ms: number): JoinWindows;
}

/** Join windows `timeDifferenceMs` either way of a record, with no grace. */
export function joinWindows(timeDifferenceMs: number): JoinWindows {
  const difference = nonNegative('joinWindows(timeDifference)', timeDifferenceMs);
  return windowsOfJoin(difference, difference, 0);
}

function windowsOfJoin(beforeMs: number, afterMs: number, graceMs: number): JoinWindows {
  const span = (what: string, before: number, after: number) => {
    if (before + after < 0) throw invalid(`${what}: before + after must be ≥ 0, or no record could join; got ${before} + ${after}`);
    return windowsOfJoin(before, after, graceMs);
  };
  return Object.freeze({
    kind: 'join' as const,
    beforeMs,
    afterMs,
    graceMs,
    before: (ms: number) => span('before(ms)', whole('before(ms)', ms), afterMs),
    after: (ms: number) => span('after(ms)', beforeMs, whole('after(ms)', ms)),
    grace: (ms: number) => windowsOfJoin(beforeMs, afterMs, nonNegative('grace(ms)', ms)),
  });
}

/**
 * A windowed key: the group's key and the window it counts in, `start <= t < end` (for
 * sliding windows `start <= t <= end`, as in Kafka Streams).
 */
export interface Windowed<K> {
  readonly key: K;
  readonly start: number;
  readonly end: number;
}

/** Windows of `sizeMs` that do not overlap: each record counts in exactly one. */
export function tumbling(sizeMs: number): TimeWindows {
  return timeWindows(positive('tumbling(size)', sizeMs), sizeMs, 0);
}

/** Windows of `sizeMs` starting every `advanceMs`: each record counts in size/advance of them. */
export function hopping(sizeMs: number, advanceMs: number): TimeWindows {
  positive('hopping(size)', sizeMs);
  positive('hopping(advance)', advanceMs);
  if (advanceMs > sizeMs) throw invalid(`hopping(${sizeMs}, ${advanceMs}): the advance may not exceed the size, or records fall between windows`);
  return timeWindows(sizeMs, advanceMs, 0);
}

function timeWindows(size: number, advance: number, graceMs: number): TimeWindows {
  return Object.freeze({
    kind: 'time' as const,
    size,
    advance,
    graceMs,
    grace: (ms: number) => timeWindows(size, advance, nonNegative('grace(ms)', ms)),
  });
}

function positive(what: string, ms: number): number {
  if (!Number.isInteger(ms) || ms < 1) throw invalid(`${what}: expected a positive whole number of ms, got ${ms}`);
  return ms;
}

function whole(what: string, ms: number): number {
  if (!Number.isInteger(ms)) throw invalid(`${what}: expected a whole number of ms, got ${ms}`);
  return ms;
}

function nonNegative(what: string, ms: number): number {
  if (!Number.isInteger(ms) || ms < 0) throw invalid(`${what}: expected a whole number of ms ≥ 0, got ${ms}`);
  return ms;
}
