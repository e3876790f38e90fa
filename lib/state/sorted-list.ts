/**
 * Items in the order of `compare`, which must tell every two items apart: the in-memory index
 * of a store whose node reads it by range (a key's records in a time span) or from its oldest
 * item on (what expires next).
 */
export class SortedList<T> {
  #items: T[] = [];
  /** Where the items start: taking the first item, the common case, moves this instead of the rest. */
  #head = 0;
  readonly #compare: (a: T, b: T) => number;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  first(): T | undefined {
    return this.#items[this.#head];
  }

  last(): T | undefined {
    return this.size === 0 ? undefined : this.#items[this.#items.length - 1];
  }

  insert(item: T): void {
    this.#items.splice(this.#firstWhere((x) => this.#compare(x, item) > 0), 0, item);
  }

  /** Removes the item that compares equal to `item`, if there is one. */
  delete(item: T): void {
    const at = this.#firstWhere((x) => this.#compare(x, item) >= 0);
    if (at === this.#items.length || this.#compare(this.#items[at]!, item) !== 0) return;
    if (at > this.#head) {
      this.#items.splice(at, 1);
      return;
    }
    this.#head++;
    if (this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * The items from the first that `reached` holds for up to, not including, the first that
   * `passed` holds for; each predicate must hold from some item on.
   */
  range(reached: (item: T) => boolean, passed: (item: T) => boolean): T[] {
    return this.#items.slice(this.#firstWhere(reached), this.#firstWhere(passed));
  }

  /** A copy, in order: the list may change while the copy is walked. */
  toArray(): T[] {
    return this.#items.slice(this.#head);
  }

  #firstWhere(holds: (item: T) => boolean): number {
    let low = this.#head;
    let high = this.#items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (holds(this.#items[middle]!)) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
