import { describe, expect, it } from 'vitest';
import { SortedList } from '../../../lib/state/sorted-list.ts';

describe('SortedList', () => {
  const numbers = (...items: number[]) => {
    const list = new SortedList<number>((a, b) => a - b);
    for (const n of items) list.insert(n);
    return list;
  };

  it('keeps items in order whatever order they come in', () => {
    const list = numbers(5, 1, 4, 2, 3);
    expect(list.toArray()).toEqual([1, 2, 3, 4, 5]);
    expect([list.size, list.first(), list.last()]).toEqual([5, 1, 5]);
    expect(new SortedList<number>((a, b) => a - b).first()).toBeUndefined();
  });

  it('deletes the item that compares equal, and nothing when none does', () => {
    const list = numbers(1, 2, 3);
    list.delete(2);
    list.delete(7);
    list.delete(0);
    expect(list.toArray()).toEqual([1, 3]);
  });

  it('ranges from the first item a predicate reaches to the first another one passes', () => {
    const list = numbers(1, 3, 5, 7, 9);
    expect(list.range((n) => n >= 3, (n) => n > 7)).toEqual([3, 5, 7]);
    expect(list.range((n) => n >= 4, (n) => n > 4)).toEqual([]);
    expect(list.range((n) => n >= 0, (n) => n > 100)).toEqual([1, 3, 5, 7, 9]);
  });

  it('hands out copies: changing the list does not change what was handed out', () => {
    const list = numbers(1, 2);
    const copy = list.toArray();
    list.insert(0);
    expect(copy).toEqual([1, 2]);
  });
});

describe('SortedList, taken from the front', () => {
  it('stays in order while its oldest items go one by one and new ones come', () => {
    const list = new SortedList<number>((a, b) => a - b);
    for (let n = 0; n < 10; n++) list.insert(n);
    for (let n = 0; n < 7; n++) {
      list.delete(list.first()!);
      list.insert(10 + n);
    }
    expect(list.toArray()).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect([list.size, list.first(), list.last()]).toEqual([10, 7, 16]);
    expect(list.range((n) => n >= 0, (n) => n > 8)).toEqual([7, 8]);
    list.delete(6);
    list.insert(6);
    expect(list.first()).toBe(6);
    for (const n of list.toArray()) list.delete(n);
    expect([list.size, list.first(), list.last()]).toEqual([0, undefined, undefined]);
  });
});
