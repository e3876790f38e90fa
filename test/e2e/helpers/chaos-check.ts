import { groupOf, parse, WINDOW_MS, type Parsed, type Totals } from './chaos-shape.ts';
import type { KcatRecord } from './kcat.ts';

/**
 * The chaos test's judge: compares what the runner wrote, read committed by kcat (helpers/kcat.ts),
 * with a truth computed from the input records alone.
 */

export interface TopicCheck {
  /** Records the truth has. */
  expected: number;
  /** Records the topic has. */
  seen: number;
  /** Records the truth has, seen more than once (each extra copy counts). */
  duplicates: number;
  /** Records the truth does not have at all (a count past the key's total: a record counted twice). */
  unexpected: number;
  /** Records the truth has, never seen. */
  missing: number;
  /** Keys (or windows) whose last value is not the truth's final one. */
  finalsWrong: number;
  /** A few of the differences, to say which. */
  examples: string[];
}

/** The whole verdict; `clean` when nothing was lost, doubled, invented or left wrong. */
export interface ChaosVerdict {
  inputRecords: number;
  mapped: TopicCheck;
  counts: TopicCheck;
  windows: TopicCheck;
}

export const clean = (v: ChaosVerdict): boolean =>
  [v.mapped, v.counts, v.windows].every((c) => c.duplicates === 0 && c.unexpected === 0 && c.missing === 0 && c.finalsWrong === 0 && c.seen === c.expected);

function emptyCheck(): TopicCheck {
  return { expected: 0, seen: 0, duplicates: 0, unexpected: 0, missing: 0, finalsWrong: 0, examples: [] };
}

function note(check: TopicCheck, text: string): void {
  if (check.examples.length < 10) check.examples.push(text);
}

/**
 * Compares, per key, the multiset of `seen` values with `expected` (value → how often the truth
 * has it) and adds the differences to `check`.
 */
function compareMultiset(check: TopicCheck, where: string, expected: ReadonlyMap<string, number>, seen: readonly string[]): void {
  const got = new Map<string, number>();
  for (const v of seen) got.set(v, (got.get(v) ?? 0) + 1);
  check.seen += seen.length;
  for (const [value, want] of expected) {
    check.expected += want;
    const have = got.get(value) ?? 0;
    if (have > want) {
      check.duplicates += have - want;
      note(check, `${where}: ${value} seen ${have}× instead of ${want}×`);
    } else if (have < want) {
      check.missing += want - have;
      note(check, `${where}: ${value} seen ${have}× instead of ${want}×`);
    }
  }
  for (const [value, have] of got) {
    if (!expected.has(value)) {
      check.unexpected += have;
      note(check, `${where}: ${value} seen ${have}×, not in the truth`);
    }
  }
}

const oneToN = (n: number): Map<string, number> => new Map(Array.from({ length: n }, (_, i) => [String(i + 1), 1]));

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list === undefined) map.set(k, [item]);
    else list.push(item);
  }
  return map;
}

/**
 * The truth from `input` alone, against the three outputs (each in partition and offset order:
 * a key, or a window's key, stays in one partition, so that is its order).
 *   mapped:  each input record once, parsed
 *   counts:  per key every count 1..n once, the last one n
 *   windows: per (group, window) every count 1..n once, the last { count: n, sum } exact
 */
export function judge(input: readonly KcatRecord[], mapped: readonly KcatRecord[], counts: readonly KcatRecord[], windows: readonly KcatRecord[]): ChaosVerdict {
  const verdict: ChaosVerdict = { inputRecords: input.length, mapped: emptyCheck(), counts: emptyCheck(), windows: emptyCheck() };

  // mapped: key and parsed value together, fields in a fixed order, so a wrong key or amount is unexpected.
  const mappedText = (key: string | null, p: Parsed | null) => JSON.stringify([key, p?.seq, p?.key, p?.amount]);
  const mappedTruth = new Map<string, number>();
  for (const r of input) {
    const text = mappedText(r.key, parse(r.payload ?? '', r.key ?? ''));
    mappedTruth.set(text, (mappedTruth.get(text) ?? 0) + 1);
  }
  compareMultiset(
    verdict.mapped,
    'mapped',
    mappedTruth,
    mapped.map((r) => mappedText(r.key, JSON.parse(r.payload ?? 'null') as Parsed | null)),
  );

  const inputByKey = groupBy(input, (r) => r.key ?? '');
  const countsByKey = groupBy(counts, (r) => r.key ?? '');
  for (const key of new Set([...inputByKey.keys(), ...countsByKey.keys()])) {
    const n = inputByKey.get(key)?.length ?? 0;
    const seen = (countsByKey.get(key) ?? []).map((r) => r.payload ?? 'null');
    compareMultiset(verdict.counts, `counts ${key}`, oneToN(n), seen);
    const last = seen.at(-1);
    if (n > 0 && last !== String(n)) {
      verdict.counts.finalsWrong++;
      note(verdict.counts, `counts ${key}: last ${last ?? 'none'}, truth ${n}`);
    }
  }

  // Windows: keyed by (group, start); the truth's windows are where the input's timestamps fall.
  const windowOf = (group: string, ts: number) => {
    const start = ts - (ts % WINDOW_MS);
    return JSON.stringify({ key: group, start, end: start + WINDOW_MS });
  };
  const truth = new Map<string, Totals>();
  for (const r of input) {
    const w = windowOf(groupOf(r.key ?? ''), r.ts);
    const t = truth.get(w) ?? { count: 0, sum: 0 };
    truth.set(w, { count: t.count + 1, sum: t.sum + parse(r.payload ?? '', r.key ?? '').amount });
  }
  // A windowed key's JSON is normalised (parsed and written again) so field order cannot matter.
  const normal = (key: string | null) => {
    const k = JSON.parse(key ?? 'null') as { key: string; start: number; end: number };
    return JSON.stringify({ key: k.key, start: k.start, end: k.end });
  };
  const windowsByKey = groupBy(windows, (r) => normal(r.key));
  for (const w of new Set([...truth.keys(), ...windowsByKey.keys()])) {
    const want = truth.get(w) ?? { count: 0, sum: 0 };
    const seen = (windowsByKey.get(w) ?? []).map((r) => JSON.parse(r.payload ?? 'null') as Totals);
    // The running sums depend on the order the repartition topic interleaved the tasks' records; the counts do not.
    compareMultiset(verdict.windows, `windows ${w}`, oneToN(want.count), seen.map((t) => String(t.count)));
    const last = seen.at(-1);
    if (want.count > 0 && (last?.count !== want.count || last.sum !== want.sum)) {
      verdict.windows.finalsWrong++;
      note(verdict.windows, `windows ${w}: last ${JSON.stringify(last ?? null)}, truth ${JSON.stringify(want)}`);
    }
  }
  return verdict;
}
