import type { Serde } from '../serde/serde.ts';
import type { KeyValueStore } from './key-value-store.ts';
import { SortedList } from './sorted-list.ts';
import type { Timestamped, WindowKey } from './window-store.ts';

/** A window of the store, with its key's bytes: windows are told apart and ordered by them. */
export interface SlidingWindow extends WindowKey {
  readonly bytes: Buffer;
}

/** A window found by `fetch`, with what it holds at that moment. */
export interface FetchedWindow {
  readonly window: SlidingWindow;
  readonly value: Timestamped;
}

const byStart = (a: SlidingWindow, b: SlidingWindow) => a.start - b.start || Buffer.compare(a.bytes, b.bytes);

/**
 * The sliding windows of one store in one task, indexed in memory by key and start time. It
 * keeps what Kafka Streams' window store keeps: windows stay after they close, since the
 * windows of a late record are made from them, until their start falls `retention` behind the
 * newest window start; from then on nothing sees them, so they are deleted.
 */
export class SlidingWindowStore {
  readonly #store: KeyValueStore<WindowKey, Timestamped>;
  readonly #retention: number;
  readonly #ofKey = new Map<string, SortedList<SlidingWindow>>();
  readonly #all = new SortedList<SlidingWindow>(byStart);
  /** `<start>/<key bytes>` of every window in the index. */
  readonly #known = new Set<string>();
  /** The latest window start put, which the retention counts back from. */
  #newestStart = Number.NEGATIVE_INFINITY;

  constructor(store: KeyValueStore<WindowKey, Timestamped>, keys: readonly WindowKey[], keySerde: Serde<unknown>, retention: number) {
    this.#store = store;
    this.#retention = retention;
    for (const { key, start, end } of keys) this.#track({ key, start, end, bytes: keySerde.serialize(key) });
  }

  /** The windows of the key with these bytes that start in [from, to], by start time, as far as the retention lets them be seen. */
  fetch(keyBytes: Buffer, from: number, to: number): FetchedWindow[] {
    const earliest = Math.max(from, this.#newestStart - this.#retention + 1);
    const windows = this.#ofKey.get(keyBytes.toString('latin1'));
    if (windows === undefined || to < earliest) return [];
    return windows
      .range((w) => w.start >= earliest, (w) => w.start > to)
      .map((window) => ({ window, value: this.#store.get(window)! }));
  }

  put(window: SlidingWindow, value: Timestamped): void {
    this.#store.put(window, value);
    this.#track(window);
  }

  /** Deletes the windows the retention hides for good. */
  expire(): void {
    const earliest = this.#newestStart - this.#retention + 1;
    for (let oldest = this.#all.first(); oldest !== undefined && oldest.start < earliest; oldest = this.#all.first()) {
      this.#store.delete(oldest);
      this.#all.delete(oldest);
      const id = oldest.bytes.toString('latin1');
      this.#known.delete(`${oldest.start}/${id}`);
      const ofKey = this.#ofKey.get(id)!;
      ofKey.delete(oldest);
      if (ofKey.size === 0) this.#ofKey.delete(id);
    }
  }

  /** Every window with what it holds, by start time: where stream time and the final results resume from. */
  all(): FetchedWindow[] {
    return this.#all.toArray().map((window) => ({ window, value: this.#store.get(window)! }));
  }

  #track(window: SlidingWindow): void {
    if (window.start > this.#newestStart) this.#newestStart = window.start;
    const id = window.bytes.toString('latin1');
    if (this.#known.has(`${window.start}/${id}`)) return;
    this.#known.add(`${window.start}/${id}`);
    let ofKey = this.#ofKey.get(id);
    if (ofKey === undefined) this.#ofKey.set(id, (ofKey = new SortedList(byStart)));
    ofKey.insert(window);
    this.#all.insert(window);
  }
}
