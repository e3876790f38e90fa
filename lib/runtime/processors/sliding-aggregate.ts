import type { SlidingAggregateNode } from '../../graph/nodes.ts';
import type { KeyValueStore } from '../../state/key-value-store.ts';
import { SlidingWindowStore, type FetchedWindow, type SlidingWindow } from '../../state/sliding-windows.ts';
import type { Timestamped, WindowKey } from '../../state/window-store.ts';
import type { Forward, NodeTools, TaskState } from '../compile.ts';
import type { MutableRecordContext } from '../record-context.ts';
import { FinalResults } from './final-results.ts';

/**
 * Kafka Streams' sliding-window aggregation (KStreamSlidingWindowAggregate, read backwards
 * from the newest window as it does on RocksDB), record for record: which windows a record
 * makes or updates, which aggregate seeds a new one, and when a record is late. A window's
 * output carries the time of its newest record.
 */
export function slidingAggregate(
  node: SlidingAggregateNode,
  next: Forward,
  context: MutableRecordContext,
  state: TaskState,
  { guard, forwardAt, clockOf }: NodeTools,
): Forward {
  const { timeDifference, grace, emit, timestamp, initializer, aggregator } = node;
  // Kafka Streams' retention: the windows a late record's windows are made from stay visible.
  const windows = new SlidingWindowStore(
    state.store(node.store) as KeyValueStore<WindowKey, Timestamped>,
    state.takeKeys(node.store) as WindowKey[],
    node.serdes.key,
    2 * timeDifference + grace,
  );
  // Stream time is the newest record's: its window [t - time difference, t] is still stored.
  const stored = windows.all();
  let streamTime = stored.reduce((newest, w) => Math.max(newest, w.value.timestamp), Number.NEGATIVE_INFINITY);
  const finals = emit === 'final' ? new FinalResults() : undefined;
  for (const { window, value } of stored) if (window.end > streamTime - grace) finals?.hold(window, value);

  const pass = (window: SlidingWindow, value: Timestamped) =>
    forwardAt(next, value.value, { key: window.key, start: window.start, end: window.end }, value.timestamp);
  const passClosed = () => {
    for (const closed of finals?.closed(streamTime - grace) ?? []) pass(closed.window, closed.value);
  };
  const forward = (window: SlidingWindow, value: Timestamped) => {
    if (finals === undefined) return pass(window, value);
    // As suppress(untilWindowCloses): each update is held, then whatever closed goes out.
    finals.hold(window, value);
    passClosed();
  };
  // As windowTime in compile.ts: a watermark, in record time, moves only the clock of a node
  // that takes record time; one that extracts its own only recomputes it.
  const clock = clockOf(node, streamTime, (topic, writer, time) => {
    streamTime = timestamp === undefined ? clock.observe(topic, writer, time) : clock.refresh();
    passClosed();
  });

  return (value, key) => {
    if (key === null || key === undefined || value === null || value === undefined) return;
    const time = timestamp === undefined ? context.timestamp : guard(() => timestamp(value, key, context));
    streamTime = clock.observe(context.topic, context.writer, timestamp === undefined ? (context.watermark ?? time) : time);
    const closeTime = streamTime - grace;
    if (time + 1 + timeDifference <= closeTime) {
      // The window it would have made: a record before the time difference shares [0, timeDifference].
      const start = Math.max(0, time - timeDifference);
      state.late(node.name, time, { start, end: start + timeDifference }, streamTime);
      return;
    }
    const bytes = guard(() => node.serdes.key.serialize(key));
    const windowAt = (start: number): SlidingWindow => ({ key, start, end: start + timeDifference, bytes });
    const initial = (): Timestamped => ({ value: guard(initializer), timestamp: time });
    /** Adds the record to a window that is still open; a closed one is left as it is. */
    const update = (window: SlidingWindow, current: Timestamped) => {
      if (window.end < closeTime) return;
      const updated = { value: guard(() => aggregator(current.value, value, key)), timestamp: Math.max(time, current.timestamp) };
      windows.put(window, updated);
      forward(window, updated);
    };
    /** The window after the record holds the later records of the window that contained it. */
    const createRight = (from: Timestamped) => {
      const window = windowAt(time + 1);
      windows.put(window, from);
      forward(window, from);
    };
    if (time < timeDifference) early(guard(() => windows.fetch(bytes, 0, time + 1)), time, windowAt, initial, update, createRight);
    else later(guard(() => windows.fetch(bytes, Math.max(0, time - 2 * timeDifference), time + 1)), time, timeDifference, windowAt, initial, update, createRight);
    windows.expire();
  };
}

type Update = (window: SlidingWindow, current: Timestamped) => void;

/** A record at `time` ≥ the time difference: its windows are found from the newest back. */
function later(
  found: FetchedWindow[],
  time: number,
  timeDifference: number,
  windowAt: (start: number) => SlidingWindow,
  initial: () => Timestamped,
  update: Update,
  createRight: (from: Timestamped) => void,
): void {
  const starts = new Set<number>();
  let leftAggregate: Timestamped | undefined;
  let rightAggregate: Timestamped | undefined;
  let leftExists = false;
  let rightExists = false;
  let previous: number | undefined;
  for (const { window, value } of found.reverse()) {
    starts.add(window.start);
    if (window.start === time + 1) {
      rightExists = true;
    } else if (window.end > time) {
      rightAggregate ??= value;
      update(window, value);
    } else if (window.end === time) {
      leftExists = true;
      update(window, value);
      // A record at this very time made the windows already.
      if (value.timestamp >= time) return;
      previous = value.timestamp;
    } else {
      leftAggregate = value;
      previous = value.timestamp;
      break;
    }
  }
  if (previous !== undefined && !starts.has(previous + 1) && previous + 1 + timeDifference >= time) {
    update(windowAt(previous + 1), initial());
  }
  if (!leftExists) {
    const seed = previous !== undefined && time - timeDifference <= previous ? { value: leftAggregate!.value, timestamp: time } : initial();
    update(windowAt(time - timeDifference), seed);
  }
  if (!rightExists && rightAggregate !== undefined && rightAggregate.timestamp > time) createRight(rightAggregate);
}

/**
 * A record before the time difference: its left window would start before 0, so, as Kafka
 * Streams does, such records share the window [0, time difference].
 */
function early(
  found: FetchedWindow[],
  time: number,
  windowAt: (start: number) => SlidingWindow,
  initial: () => Timestamped,
  update: Update,
  createRight: (from: Timestamped) => void,
): void {
  const starts = new Set<number>();
  let combined: FetchedWindow | undefined;
  let rightAggregate: Timestamped | undefined;
  let rightExists = false;
  let previous: number | undefined;
  for (const entry of found) {
    const { window, value } = entry;
    starts.add(window.start);
    if (window.start === 0) {
      combined = entry;
      if (value.timestamp < time) previous = value.timestamp;
    } else if (window.start <= time) {
      rightAggregate = value;
      update(window, value);
    } else {
      rightExists = true;
    }
  }
  // Only later records can be in the shared window when it is newer than this record.
  if (rightAggregate === undefined && combined !== undefined && combined.value.timestamp > time) rightAggregate = combined.value;
  if (!rightExists && rightAggregate !== undefined && rightAggregate.timestamp > time) createRight(rightAggregate);
  if (previous !== undefined && !starts.has(previous + 1)) update(windowAt(previous + 1), initial());
  if (combined === undefined) update(windowAt(0), initial());
  else update(combined.window, combined.value);
}
