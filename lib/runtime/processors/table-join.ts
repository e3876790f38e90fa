import type { TableJoinNode } from '../../graph/nodes.ts';
import type { KeyValueStore } from '../../state/key-value-store.ts';
import type { Forward, NodeTools, TaskState } from '../compile.ts';
import type { MutableRecordContext } from '../record-context.ts';

/** When the left and the right value of a key last changed; null while that side has none. */
type ChangeTimes = [left: number | null, right: number | null];

/**
 * One side of Kafka Streams' KTable–KTable join (inner, left or outer, with the right side of
 * a left join as KTableKTableRightJoin), change for change: which changes make a result, which
 * a delete (null), and which nothing at all.
 */
export function tableJoin(node: TableJoinNode, next: Forward, context: MutableRecordContext, state: TaskState, { guard, forwardAt }: NodeTools): Forward {
  const results = state.store(node.store);
  const times = state.store(node.times) as KeyValueStore<unknown, ChangeTimes>;
  const left = node.side === 'left';
  const own = left ? 0 : 1;
  const otherTable = state.tableValues((left ? node.tables.right : node.tables.left).store);
  const joined = (value: unknown, otherValue: unknown, key: unknown) =>
    guard(() => (left ? node.joiner(value, otherValue, key) : node.joiner(otherValue, value, key)));
  const emit = (result: unknown, key: unknown, time: number) => {
    if (result === null || result === undefined) results.delete(key);
    else results.put(key, result);
    forwardAt(next, result ?? null, key, time);
  };

  return (change, key) => {
    if (key === null || key === undefined) return;
    const value = change ?? null;
    const time = context.timestamp;
    const changed = guard(() => times.get(key)) ?? [null, null];
    // Kafka Streams sends a left or outer join's side its old value: was there a row before?
    const had = changed[own] !== null;
    const otherTime = changed[1 - own];
    const now: ChangeTimes = [...changed];
    now[own] = value === null ? null : time;
    if (now[0] === null && now[1] === null) times.delete(key);
    else times.put(key, now);
    const otherValue = guard(() => otherTable(key)) ?? null;
    const stamp = otherValue === null ? time : Math.max(time, otherTime ?? time);
    if (node.join === 'inner') {
      if (otherValue !== null) emit(value === null ? null : joined(value, otherValue, key), key, stamp);
    } else if (node.join === 'left' && !left) {
      // A change on the right of a left join matters only where the left has a row.
      if (otherValue !== null) emit(joined(value, otherValue, key), key, stamp);
    } else if (otherValue !== null || value !== null || had) {
      const keeps = node.join === 'outer' ? otherValue !== null || value !== null : value !== null;
      emit(keeps ? joined(value, otherValue, key) : null, key, stamp);
    }
  };
}


