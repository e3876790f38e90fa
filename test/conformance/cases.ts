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
  /** Records of a table topic to interleave, for joins. */
  readonly table?: boolean;
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
 * The conformance matrix: every window kind with every aggregation, both emit modes, grace 0 and
 * more, on the key or through a repartition topic, plus stream–table joins, each on its own
 * seeded input of 300 records.
 */
export function conformanceCases(): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  let seed = 1;
  const add = (name: string, description: string, topology: CaseTopology, shape: Shape) => {
    cases.push({ name, description, topology, input: generate(seed++, 300, shape) });
  };
  const windows = [
    { name: 'tumbling', spec: { size: 10 }, sessions: false },
    { name: 'hopping', spec: { size: 10, advance: 4 }, sessions: false },
    { name: 'session', spec: { gap: 6 }, sessions: true },
  ] as const;
  for (const window of windows) {
    for (const grace of [0, 5]) {
      for (const aggregation of aggregations) {
        for (const emit of emits) {
          for (const regroup of [false, true]) {
            // Re-keying is one more path, not one more semantics: once per window kind and emit mode is enough.
            if (regroup && (aggregation !== 'count' || grace === 0)) continue;
            const kind = window.sessions
              ? aggregation === 'count'
                ? 'session-count'
                : aggregation === 'aggregate-concat'
                  ? 'session-aggregate-concat'
                  : 'session-reduce-sum'
              : (`windowed-${aggregation}` as const);
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
  return cases;
}
