import type { Serde } from '../serde/serde.ts';
import type { KeyValueStore } from './key-value-store.ts';

export interface WindowKey {
  readonly key: unknown;
  readonly start: number;
  readonly end: number;
}

/**
 * Stores a window under [key length][key][start][end], so one key's windows sit together in
 * time order and a range scan by key and time stays one LevelDB range.
 */
export function windowKeySerde(keySerde: Serde<unknown>): Serde<WindowKey> {
  return {
    name: `windowed(${keySerde.name})`,
    serialize({ key, start, end }) {
      const keyBytes = keySerde.serialize(key);
      const bytes = Buffer.allocUnsafe(4 + keyBytes.length + 16);
      bytes.writeUInt32BE(keyBytes.length, 0);
      keyBytes.copy(bytes, 4);
      bytes.writeBigInt64BE(BigInt(start), 4 + keyBytes.length);
      bytes.writeBigInt64BE(BigInt(end), 12 + keyBytes.length);
      return bytes;
    },
    deserialize(bytes) {
      const length = bytes.readUInt32BE(0);
      return {
        key: keySerde.deserialize(bytes.subarray(4, 4 + length)),
        start: Number(bytes.readBigInt64BE(4 + length)),
        end: Number(bytes.readBigInt64BE(12 + length)),
      };
    },
  };
}

/** A closed window and its final aggregate. */
export interface ClosedWindow extends WindowKey {
  readonly value: unknown;
}

/**
 * The open windows of one store in one task. The store holds only open windows (a closed one
 * takes no more records, so it is deleted, which its changelog learns too); their keys are
 * also kept in memory, so finding the windows that close needs no disk scan.
 */
export class WindowState {
  readonly #store: KeyValueStore<WindowKey, unknown>;
  readonly #grace: number;
  readonly #open = new Map<string, WindowKey>();
  /** The open windows of each key, for session windows, which merge with their neighbours. */
  readonly #byKey = new Map<string, Map<string, WindowKey>>();
  /** The largest event time seen; windows close against it, not against the wall clock. */
  streamTime = Number.NEGATIVE_INFINITY;
  #nextClose = Number.POSITIVE_INFINITY;

  private constructor(store: KeyValueStore<WindowKey, unknown>, grace: number) {
    this.#store = store;
    this.#grace = grace;
  }

  /** Reads the open windows back after a restore; stream time resumes from the latest window. */
  static async load(store: KeyValueStore<WindowKey, unknown>, grace: number): Promise<WindowState> {
    const state = new WindowState(store, grace);
    for await (const { key } of store.range()) {
      state.#track(key);
      state.streamTime = Math.max(state.streamTime, key.start);
    }
    return state;
  }

  observe(timestamp: number): void {
    if (timestamp > this.streamTime) this.streamTime = timestamp;
  }

  /** Whether a window ending at `end` already closed. */
  closed(end: number): boolean {
    return end + this.#grace <= this.streamTime;
  }

  get(window: WindowKey): unknown {
    return this.#store.get(window);
  }

  put(window: WindowKey, value: unknown): void {
    this.#store.put(window, value);
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

  /** Removes the windows that closed, and returns them with their aggregates, oldest end first. */
  expire(): ClosedWindow[] {
    if (!this.closed(this.#nextClose - this.#grace)) return [];
    const closed: ClosedWindow[] = [];
    this.#nextClose = Number.POSITIVE_INFINITY;
    for (const window of [...this.#open.values()]) {
      if (this.closed(window.end)) {
        closed.push({ ...window, value: this.#store.get(window) });
        this.remove(window);
      } else {
        this.#nextClose = Math.min(this.#nextClose, window.end + this.#grace);
      }
    }
    return closed.sort((a, b) => a.end - b.end || a.start - b.start);
  }

  #track(window: WindowKey): void {
    const key = JSON.stringify(window.key);
    const id = `${window.start}/${window.end}/${key}`;
    if (this.#open.has(id)) return;
    this.#open.set(id, window);
    let ofKey = this.#byKey.get(key);
    if (ofKey === undefined) this.#byKey.set(key, (ofKey = new Map()));
    ofKey.set(id, window);
    this.#nextClose = Math.min(this.#nextClose, window.end + this.#grace);
  }

  #untrack(window: WindowKey): void {
    const key = JSON.stringify(window.key);
    const id = `${window.start}/${window.end}/${key}`;
    this.#open.delete(id);
    const ofKey = this.#byKey.get(key);
    ofKey?.delete(id);
    if (ofKey?.size === 0) this.#byKey.delete(key);
  }
}
