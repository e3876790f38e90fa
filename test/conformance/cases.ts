import type { GoldenCase } from '../golden/golden.ts';
import type { CaseTopology } from '../unit/golden/topologies.ts';

type Input = GoldenCase['input'][number];

/** A seeded generator (a linear congruential one): the same cases on every run, in both twins. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Shape {
  /** How far a record may lag the newest one and still be on time. */
  readonly grace: number;
  /** How far beyond the grace a late record lags. */
  readonly lateBy: number;
  /** Records of a table topic to interleave, for stream–table joins. */
  readonly table?: boolean;
  /** For joins of two streams or two tables: the topics a record picks from, and whether they are tables. */
  readonly sides?: { readonly topics: readonly [string, string]; readonly tables: boolean };
}

/**
 * Records as real inputs come: time moving on by 0–3 ms a record, one in five out of order
 * within the grace, one in twenty late beyond it, a few without a key or without a value, and
 * for joins table updates and deletes interleaved with the stream.
 */
function generate(seed: number, count: number, shape: Shape): Input[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const keys = ['a', 'b', 'c', 'd', 'e'];
  const inputs: Input[] = [];
  let newest = 0;
  for (let i = 0; i < count; i++) {
    newest += Math.floor(next() * 4);
    const roll = next();
    const timestamp =
      roll < 0.2
        ? Math.max(0, newest - Math.floor(next() * (shape.grace + 1)))
        : roll < 0.25
          ? Math.max(0, newest - shape.grace - 1 - Math.floor(next() * shape.lateBy))
          : newest;
    const key = next() < 0.04 ? null : pick(keys);
    if (shape.table === true && next() < 0.3) {
      inputs.push({ topic: 'table', key, value: next() < 0.15 ? null : `t${Math.floor(next() * 100)}`, timestamp });
      continue;
    }
    if (shape.sides !== undefined) {
      const [first, second] = shape.sides.topics;
      const topic = next() < 0.5 ? first : second;
      // A table's deletes are common; a stream record without a value is rare.
      const value = next() < (shape.sides.tables ? 0.15 : 0.04) ? null : `${topic[0]}${Math.floor(next() * 100)}`;
      inputs.push({ topic, key, value, timestamp });
      continue;
    }
    const value = next() < 0.04 ? null : String(Math.floor(next() * 10));
    inputs.push({ topic: 'in', key, value, timestamp });
  }
  return inputs;
}

export interface ConformanceCase extends GoldenCase<CaseTopology> {
  readonly name: string;
}

const aggregations = ['count', 'reduce-sum', 'aggregate-concat'] as const;
const emits = ['update', 'final'] as const;

/**
 * The conformance matrix: every window kind (tumbling, hopping, session, sliding) with every
 * aggregation, both emit modes, grace 0 and more, on the key or through a repartition topic;
 * stream–table, stream–stream (three join windows each) and table–table joins, inner, left and
 * outer; each on its own seeded input of 300 records.
 */
export function conformanceCases(): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  let seed = 1;
  const add = (name: string, description: string, topology: CaseTopology, shape: Shape) => {
    cases.push({ name, description, topology, input: generate(seed++, 300, shape) });
  };
  const windows = [
    { name: 'tumbling', spec: { size: 10 }, prefix: 'windowed' },
    { name: 'hopping', spec: { size: 10, advance: 4 }, prefix: 'windowed' },
    { name: 'session', spec: { gap: 6 }, prefix: 'session' },
    { name: 'sliding', spec: { timeDifference: 8 }, prefix: 'sliding' },
  ] as const;
  for (const window of windows) {
    for (const grace of [0, 5]) {
      for (const aggregation of aggregations) {
        for (const emit of emits) {
          for (const regroup of [false, true]) {
            // Re-keying is one more path, not one more semantics: once per window kind and emit mode is enough.
            if (regroup && (aggregation !== 'count' || grace === 0)) continue;
            const kind = `${window.prefix}-${aggregation}` as const;
            const name = `${window.name}-${aggregation}-grace${grace}-${emit}${regroup ? '-regroup' : ''}`;
            add(
              name,
              `${window.name} ${JSON.stringify(window.spec)} grace ${grace} ${aggregation}, emit ${emit}${regroup ? ', groupBy through a repartition topic' : ''}`,
              { kind, ...window.spec, grace, emit, ...(regroup ? { regroup: true } : {}) },
              { grace, lateBy: 30 },
            );
          }
        }
      }
    }
  }
  for (const aggregation of aggregations) {
    add(`${aggregation}`, `groupByKey().${aggregation}`, { kind: aggregation }, { grace: 5, lateBy: 30 });
  }
  add('count-regroup', 'groupBy(value % 3).count() through a repartition topic', { kind: 'count', regroup: true }, { grace: 5, lateBy: 30 });
  for (const kind of ['join', 'left-join'] as const) {
    add(kind, `stream–table ${kind} with table updates and deletes`, { kind }, { grace: 5, lateBy: 30, table: true });
  }
  const streams = { topics: ['left', 'right'], tables: false } as const;
  for (const kind of ['stream-join', 'stream-left-join', 'stream-outer-join'] as const) {
    for (const [label, windows] of [
      ['diff5-grace0', { timeDifference: 5, grace: 0 }],
      ['diff5-grace3', { timeDifference: 5, grace: 3 }],
      ['before2-after6-grace3', { timeDifference: 5, before: 2, after: 6, grace: 3 }],
    ] as const) {
      add(`${kind}-${label}`, `${kind} with JoinWindows ${JSON.stringify(windows)}, both sides interleaved`, { kind, ...windows }, {
        grace: windows.grace,
        lateBy: 20,
        sides: streams,
      });
    }
  }
  for (const kind of ['table-join', 'table-left-join', 'table-outer-join'] as const) {
    add(kind, `table–table ${kind} with updates and deletes on both sides`, { kind }, { grace: 5, lateBy: 30, sides: { topics: ['left', 'right'], tables: true } });
  }
  return cases;
}
