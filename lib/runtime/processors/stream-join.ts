import type { GraphNode, StreamJoinNode } from '../../graph/nodes.ts';
import type { EventClock } from '../event-clock.ts';
import { JoinBuffer, type BufferedKey } from '../../state/join-buffer.ts';
import type { KeyValueStore } from '../../state/key-value-store.ts';
import { UnmatchedRecords, type JoinSide, type UnmatchedKey } from '../../state/unmatched-records.ts';
import type { Forward, NodeTools, TaskState } from '../compile.ts';
import type { MutableRecordContext } from '../record-context.ts';

/** What both sides of one join share in a task. */
interface JoinState {
  readonly buffers: Readonly<Record<JoinSide, JoinBuffer>>;
  readonly unmatched: UnmatchedRecords | undefined;
  /**
   * Over both sides' inputs: the latest record time, as Kafka Streams' shared time tracker,
   * held back while one side has records still to read (see EventClock).
   */
  readonly clock: EventClock;
  streamTime: number;
  /** The left side's emission of closed unmatched records, for time that moved between records. */
  onAdvance: (() => void) | undefined;
  /**
   * Kafka Streams' minTime, which gates the search for closed unmatched records. As there, a
   * search leaves it at the last record it looked at, which need not be the oldest one left, so
   * it can hold a closed record back until a later search.
   */
  oldestUnmatched: number;
}

/** By the left buffer's store: one join state per task, whichever side is compiled first. */
const joins = new WeakMap<object, JoinState>();

function joinState(node: StreamJoinNode, sides: readonly GraphNode[], state: TaskState, clockOf: NodeTools['clockOf']): JoinState {
  const leftStore = state.store(node.stores.left);
  const known = joins.get(leftStore);
  if (known !== undefined) return known;
  const { before, after, grace } = node.windows;
  // Kafka Streams' join stores keep records for the window size plus grace.
  const buffer = (name: string) =>
    new JoinBuffer(state.store(name) as KeyValueStore<BufferedKey, unknown>, state.takeKeys(name) as BufferedKey[], node.serdes.key, before + after + grace);
  const buffers = { left: buffer(node.stores.left), right: buffer(node.stores.right) };
  const name = node.stores.unmatched;
  const unmatched =
    name === undefined
      ? undefined
      : new UnmatchedRecords(state.store(name) as KeyValueStore<UnmatchedKey, never>, state.takeKeys(name) as UnmatchedKey[], node.serdes.key);
  const floor = Math.max(buffers.left.newest, buffers.right.newest);
  const clock = clockOf(sides, floor, (topic, writer, time) => {
    const before = created.streamTime;
    created.streamTime = clock.observe(topic, writer, time);
    if (created.streamTime > before) created.onAdvance?.();
  });
  const created: JoinState = {
    buffers,
    unmatched,
    clock,
    streamTime: floor,
    onAdvance: undefined,
    oldestUnmatched: unmatched?.oldest() ?? Number.POSITIVE_INFINITY,
  };
  joins.set(leftStore, created);
  return created;
}

/**
 * One side of Kafka Streams' stream–stream join (KStreamKStreamJoin with the fix for spurious
 * left/outer results), record for record: which buffered records join, which wait as
 * unmatched, and when those go out with null. Results carry the later of the two records'
 * times; an unmatched record goes out with its own.
 */
export function streamJoin(
  node: StreamJoinNode,
  sides: readonly GraphNode[],
  next: Forward,
  context: MutableRecordContext,
  state: TaskState,
  { guard, forwardAt, clockOf }: NodeTools,
): Forward {
  const shared = joinState(node, sides, state, clockOf);
  const { before, after, grace } = node.windows;
  const side = node.side;
  const otherSide: JoinSide = side === 'left' ? 'right' : 'left';
  // A right record's window is the left one's mirrored.
  const [lookBefore, lookAfter] = side === 'left' ? [before, after] : [after, before];
  const own = shared.buffers[side];
  const others = shared.buffers[otherSide];
  const unmatched = shared.unmatched;
  const outer = node.join === 'outer' || (node.join === 'left' && side === 'left');
  const joined = (value: unknown, partner: unknown, key: unknown) =>
    guard(() => (side === 'left' ? node.joiner(value, partner, key) : node.joiner(partner, value, key)));

  /** Passes on the unmatched records whose windows closed, oldest first, as Kafka Streams does on each new stream time. */
  const emitClosed = (records: UnmatchedRecords) => {
    if (shared.oldestUnmatched + lookAfter + grace >= shared.streamTime) return;
    shared.oldestUnmatched = Number.POSITIVE_INFINITY;
    const open = { left: false, right: false };
    for (const record of records.records()) {
      shared.oldestUnmatched = record.time;
      if (open.left && open.right) break;
      // A left record waits for right records up to `after` later, a right one for left records up to `before` later.
      if (record.time + (record.side === 'left' ? after : before) + grace >= shared.streamTime) {
        open[record.side] = true;
        continue;
      }
      const value = records.value(record);
      const result = guard(() => (record.side === 'left' ? node.joiner(value, null, record.key) : node.joiner(null, value, record.key)));
      forwardAt(next, result, record.key, record.time);
      records.delete(record);
    }
  };

  if (side === 'left' && unmatched !== undefined) shared.onAdvance = () => emitClosed(unmatched);

  return (value, key) => {
    const time = context.timestamp;
    const before = shared.streamTime;
    shared.streamTime = shared.clock.observe(context.topic, context.writer, context.watermark ?? time);
    if (key === null || key === undefined) {
      // No key, no partner: an outer side passes it on at once.
      if (outer && value !== null && value !== undefined) next(joined(value, null, key), key);
      return;
    }
    if (value === null || value === undefined) return;
    if ((time === shared.streamTime || shared.streamTime > before) && unmatched !== undefined) emitClosed(unmatched);
    const late = time + lookAfter + grace < shared.streamTime;
    const window = { start: time - lookBefore, end: time + lookAfter };
    if (late && node.late === 'dead-letter') return state.late(node.name, time, window, shared.streamTime);
    const bytes = guard(() => node.serdes.key.serialize(key));
    const to = Math.max(0, time + lookAfter);
    const partners = others.fetch(bytes, Math.max(0, time - lookBefore), to, shared.streamTime);
    for (const partner of partners) {
      unmatched?.matched(otherSide, bytes, partner.time);
      forwardAt(next, joined(value, partner.value, key), key, Math.max(time, partner.time));
    }
    if (outer && partners.length === 0) {
      // Its window closed already: nothing can join it any more.
      if (to < shared.streamTime) next(joined(value, null, key), key);
      else {
        if (time < shared.oldestUnmatched) shared.oldestUnmatched = time;
        unmatched!.add(side, key, bytes, time, value);
      }
    }
    if (late) state.late(node.name, time, window, shared.streamTime);
    own.put(key, bytes, time, value);
    own.expire(shared.streamTime);
  };
}
