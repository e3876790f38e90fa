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
  readonly size: number;
  readonly advance: number;
  readonly graceMs: number;
  /** The same windows, open for `ms` of stream time after their end for late records. */
  grace(ms: number): TimeWindows;
}

/** A windowed key: the group's key and the window it counts in, `start <= t < end`. */
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

function nonNegative(what: string, ms: number): number {
  if (!Number.isInteger(ms) || ms < 0) throw invalid(`${what}: expected a whole number of ms ≥ 0, got ${ms}`);
  return ms;
}
