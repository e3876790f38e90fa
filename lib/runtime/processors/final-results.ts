import type { SlidingWindow } from '../../state/sliding-windows.ts';
import type { Timestamped } from '../../state/window-store.ts';
import { SortedList } from '../../state/sorted-list.ts';

interface Held {
  readonly window: SlidingWindow;
  readonly value: Timestamped;
}

const byEnd = (a: Held, b: Held) =>
  a.window.end - b.window.end || Buffer.compare(a.window.bytes, b.window.bytes) || a.window.start - b.window.start;

/**
 * What `emit: 'final'` holds back for sliding windows, as Kafka Streams' suppress
 * (untilWindowCloses) does: the latest aggregate of each window, let go once its end is at or
 * behind stream time minus grace, by end time, then key bytes. A sliding window still takes
 * records when its end equals that time, so, as there, an update then makes a second result.
 * Kept in memory only: after a restart it is rebuilt from the window store, which still holds
 * every window not let go yet.
 */
export class FinalResults {
  readonly #held = new SortedList<Held>(byEnd);

  hold(window: SlidingWindow, value: Timestamped): void {
    const held = { window, value };
    this.#held.delete(held);
    this.#held.insert(held);
  }

  /** Takes the windows that end at or before `expiry`, in the order they go out. */
  *closed(expiry: number): Generator<Held> {
    for (let first = this.#held.first(); first !== undefined && first.window.end <= expiry; first = this.#held.first()) {
      this.#held.delete(first);
      yield first;
    }
  }
}
