import type { Serde } from '../serde/serde.ts';
import { keyAndTimesSerde } from './key-and-times.ts';
import type { KeyValueStore } from './key-value-store.ts';

export interface WindowKey {
  readonly key: unknown;
  readonly start: number;
  readonly end: number;
}

/** Stores a window under [key length][key][start][end], so one key's windows sit together in time order. */
export function windowKeySerde(keySerde: Serde<unknown>): Serde<WindowKey> {
  return keyAndTimesSerde('windowed', keySerde, (w) => [w.key, w.start, w.end], (key, start, end) => ({ key, start, end }));
}

/** An aggregate and the newest event time among its records, as Kafka Streams keeps them. */
export interface Timestamped {
  readonly value: unknown;
  readonly timestamp: number;
}

/** Stores an aggregate as [timestamp][value], like Kafka Streams' timestamped window stores. */
export function timestampedSerde(valueSerde: Serde<unknown>): Serde<Timestamped> {
  return {
    name: `timestamped(${valueSerde.name})`,
    // A signed 64-bit big-endian integer, written as two halves: no BigInt per record.
    serialize({ value, timestamp }) {
      const valueBytes = valueSerde.serialize(value);
      const bytes = Buffer.allocUnsafe(8 + valueBytes.length);
      const high = Math.floor(timestamp / 2 ** 32);
      bytes.writeInt32BE(high, 0);
      bytes.writeUInt32BE(timestamp - high * 2 ** 32, 4);
      valueBytes.copy(bytes, 8);
      return bytes;
    },
    deserialize(bytes) {
      const timestamp = bytes.readInt32BE(0) * 2 ** 32 + bytes.readUInt32BE(4);
      return { timestamp, value: valueSerde.deserialize(bytes.subarray(8)) };
    },
  };
}

/** A closed window, its final aggregate and that aggregate's timestamp. */
export interface ClosedWindow extends WindowKey, Timestamped {}

/**
 * The open windows of one store in one task. The store holds only open windows (a closed one
 * takes no more records, so it is deleted, which its changelog learns too); their keys are
 * also kept in memory, so finding the windows that close needs no disk scan.
 */
export class WindowState {
  readonly #store: KeyValueStore<WindowKey, Timestamped>;
  readonly #grace: number;
  readonly #keySerde: Serde<unknown>;
  /** Open windows by end time; `#ends` lists those end times in ascending order. */
  readonly #byEnd = new Map<number, Map<string, WindowKey>>();
  readonly #ends: number[] = [];
  /** The open windows of each key, for session windows, which merge with their neighbours. */
  readonly #byKey = new Map<string, Map<string, WindowKey>>();
  /** How far event time has got (the node's EventClock); windows close against it, not the wall clock. */
  streamTime = Number.NEGATIVE_INFINITY;

  private constructor(store: KeyValueStore<WindowKey, Timestamped>, grace: number, keySerde: Serde<unknown>) {
    this.#store = store;
    this.#grace = grace;
    this.#keySerde = keySerde;
  }

  /**
   * Reads the open windows back after a restore. Stream time resumes from the newest record in
   * them: it was at least that, and windows it had closed are gone from the store.
   */
  static async load(store: KeyValueStore<WindowKey, Timestamped>, windows: { grace: number; key: Serde<unknown> }): Promise<WindowState> {
    const state = new WindowState(store, windows.grace, windows.key);
    for await (const { key, value } of store.range()) {
      state.#track(key);
      state.streamTime = Math.max(state.streamTime, value.timestamp);
    }
    return state;
  }

  advanceTo(time: number): void {
    if (time > this.streamTime) this.streamTime = time;
  }

  /** Whether a window ending at `end` closed: stream time reached its end plus the grace. */
  closed(end: number): boolean {
    return end + this.#grace <= this.streamTime;
  }

  /**
   * Whether a window ending at `end` closed before the current stream time: Kafka Streams still
   * takes a session record whose session closes exactly now (and emits the session at once).
   */
  closedBefore(end: number): boolean {
    return end + this.#grace < this.streamTime;
  }

  get(window: WindowKey): Timestamped | undefined {
    return this.#store.get(window);
  }

  put(window: WindowKey, value: unknown, timestamp: number): void {
    this.#store.put(window, { value, timestamp });
    this.#track(window);
  }

  /** Deletes a window that merged into another session. */
  remove(window: WindowKey): void {
    this.#store.delete(window);
    this.#untrack(window);
  }

  /** The open windows of `key`. */
  windowsOf(key: unknown): WindowKey[] {
    return [...(this.#byKey.get(JSON.stringify(key))?.values() ?? [])];
  }

  /**
   * Removes the windows that closed and returns them with their aggregates: by end time, then
   * by the key's bytes, then start, as Kafka Streams' suppression buffer emits them. Only the
   * closing end times are looked at.
   */
  expire(): ClosedWindow[] {
    const closed: ClosedWindow[] = [];
    while (this.#ends.length > 0 && this.closed(this.#ends[0]!)) {
      const bucket = [...this.#byEnd.get(this.#ends[0]!)!.values()]
        .map((window) => ({ window, bytes: this.#keySerde.serialize(window.key) }))
        .sort((a, b) => Buffer.compare(a.bytes, b.bytes) || a.window.start - b.window.start)
        .map((w) => w.window);
      for (const window of bucket) {
        const { value, timestamp } = this.#store.get(window)!;
        closed.push({ ...window, value, timestamp });
        this.remove(window);
      }
    }
    return closed;
  }

  #track(window: WindowKey): void {
    const key = JSON.stringify(window.key);
    const id = `${window.start}/${key}`;
    let bucket = this.#byEnd.get(window.end);
    if (bucket === undefined) {
      this.#byEnd.set(window.end, (bucket = new Map()));
      this.#ends.splice(insertionPoint(this.#ends, window.end), 0, window.end);
    }
    if (bucket.has(id)) return;
    bucket.set(id, window);
    let ofKey = this.#byKey.get(key);
    if (ofKey === undefined) this.#byKey.set(key, (ofKey = new Map()));
    ofKey.set(`${window.end}/${id}`, window);
  }

  #untrack(window: WindowKey): void {
    const key = JSON.stringify(window.key);
    const id = `${window.start}/${key}`;
    const bucket = this.#byEnd.get(window.end);
    bucket?.delete(id);
    if (bucket?.size === 0) {
      this.#byEnd.delete(window.end);
      this.#ends.splice(insertionPoint(this.#ends, window.end), 1);
    }
    const ofKey = this.#byKey.get(key);
    ofKey?.delete(`${window.end}/${id}`);
    if (ofKey?.size === 0) this.#byKey.delete(key);
  }
}

/** Where `value` is, or would go, in the ascending array `sorted`. */
function insertionPoint(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
