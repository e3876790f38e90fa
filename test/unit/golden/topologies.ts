import { hopping, joinWindows, serdes, session, sliding, topology, tumbling, type Topology } from '../../../lib/index.ts';

/** A case's topology, as test/golden/cases/*.json describe it for both implementations. */
export interface CaseTopology {
  readonly kind:
    | 'count'
    | 'reduce-sum'
    | 'aggregate-concat'
    | 'windowed-count'
    | 'windowed-reduce-sum'
    | 'windowed-aggregate-concat'
    | 'session-count'
    | 'session-reduce-sum'
    | 'session-aggregate-concat'
    | 'sliding-count'
    | 'sliding-reduce-sum'
    | 'sliding-aggregate-concat'
    | 'join'
    | 'left-join'
    | 'stream-join'
    | 'stream-left-join'
    | 'stream-outer-join'
    | 'table-join'
    | 'table-left-join'
    | 'table-outer-join';
  readonly size?: number;
  readonly gap?: number;
  readonly timeDifference?: number;
  readonly before?: number;
  readonly after?: number;
  readonly advance?: number;
  readonly grace?: number;
  readonly emit?: 'update' | 'final';
  /** Group by `g<value % 3>` through a repartition topic instead of by the record's key. */
  readonly regroup?: boolean;
}

const text = { key: serdes.string, value: serdes.string };
const sum = (a: string, b: string) => String(Number(a) + Number(b));
const concat = (agg: string, v: string) => agg + v;

/**
 * The streamrun twin of each topology test/golden/generator builds with Kafka Streams: strings
 * in, strings out (counts and sums as decimal text), windowed keys as JSON `{ key, start, end }`.
 */
export function caseTopology(spec: CaseTopology): Topology {
  const app = topology('golden');
  // Joins of two streams or two tables read 'left' and 'right' instead.
  const input = () => app.stream('in', text);
  const grouped = () => (spec.regroup === true ? input().groupBy((v) => `g${Number(v) % 3}`, { key: serdes.string }) : input().groupByKey());
  switch (spec.kind) {
    case 'count':
      return grouped().count({ name: 'counts' }).toStream().mapValues(String).to('out', text);
    case 'reduce-sum':
      return grouped().reduce(sum, { name: 'sums' }).toStream().to('out', text);
    case 'aggregate-concat':
      return grouped().aggregate(() => '', concat, { name: 'concat', value: serdes.string }).toStream().to('out', text);
    case 'join':
    case 'left-join': {
      const stream = input();
      const table = app.table('table', text, { name: 'table' });
      const joined =
        spec.kind === 'join' ? stream.join(table, (v, t) => `${v}|${t}`) : stream.leftJoin(table, (v, t) => `${v}|${t}`);
      return joined.to('out', text);
    }
    case 'stream-join':
    case 'stream-left-join':
    case 'stream-outer-join': {
      const left = app.stream('left', text);
      const right = app.stream('right', text);
      let windows = joinWindows(spec.timeDifference!).grace(spec.grace ?? 0);
      if (spec.before !== undefined) windows = windows.before(spec.before);
      if (spec.after !== undefined) windows = windows.after(spec.after);
      const joiner = (l: string | null, r: string | null) => `${l}|${r}`;
      const joined =
        spec.kind === 'stream-join'
          ? left.join(right, joiner, windows)
          : spec.kind === 'stream-left-join'
            ? left.leftJoin(right, joiner, windows)
            : left.outerJoin(right, joiner, windows);
      return joined.to('out', text);
    }
    case 'table-join':
    case 'table-left-join':
    case 'table-outer-join': {
      const left = app.table('left', text, { name: 'left' });
      const right = app.table('right', text, { name: 'right' });
      const joiner = (l: string | null, r: string | null) => `${l}|${r}`;
      const joined =
        spec.kind === 'table-join'
          ? left.join(right, joiner, { name: 'joined', value: serdes.string })
          : spec.kind === 'table-left-join'
            ? left.leftJoin(right, joiner, { name: 'joined', value: serdes.string })
            : left.outerJoin(right, joiner, { name: 'joined', value: serdes.string });
      return joined.toStream().to('out', text);
    }
    case 'session-count':
    case 'session-reduce-sum':
    case 'session-aggregate-concat': {
      const windowed = grouped().windowedBy(session(spec.gap!).grace(spec.grace ?? 0));
      const emit = spec.emit ?? 'update';
      const table =
        spec.kind === 'session-count'
          ? windowed.count({ name: 'counts', emit }).toStream().mapValues((n) => (n === null ? null : String(n)))
          : spec.kind === 'session-reduce-sum'
            ? windowed.reduce(sum, { name: 'sums', emit, value: serdes.string }).toStream()
            : windowed.aggregate(() => '', concat, { name: 'concat', emit, value: serdes.string, merge: (a, b) => a + b }).toStream();
      return table.to('out', { key: serdes.json(), value: serdes.string });
    }
    case 'sliding-count':
    case 'sliding-reduce-sum':
    case 'sliding-aggregate-concat': {
      const windowed = grouped().windowedBy(sliding(spec.timeDifference!).grace(spec.grace ?? 0));
      const emit = spec.emit ?? 'update';
      const table =
        spec.kind === 'sliding-count'
          ? windowed.count({ name: 'counts', emit }).toStream().mapValues(String)
          : spec.kind === 'sliding-reduce-sum'
            ? windowed.reduce(sum, { name: 'sums', emit, value: serdes.string }).toStream()
            : windowed.aggregate(() => '', concat, { name: 'concat', emit, value: serdes.string }).toStream();
      return table.to('out', { key: serdes.json(), value: serdes.string });
    }
    default: {
      const size = spec.size!;
      const windows = (spec.advance === undefined ? tumbling(size) : hopping(size, spec.advance)).grace(spec.grace ?? 0);
      const windowed = grouped().windowedBy(windows);
      const emit = spec.emit ?? 'update';
      const table =
        spec.kind === 'windowed-count'
          ? windowed.count({ name: 'counts', emit }).toStream().mapValues(String)
          : spec.kind === 'windowed-reduce-sum'
            ? windowed.reduce(sum, { name: 'sums', emit, value: serdes.string }).toStream()
            : windowed.aggregate(() => '', concat, { name: 'concat', emit, value: serdes.string }).toStream();
      return table.to('out', { key: serdes.json(), value: serdes.string });
    }
  }
}
