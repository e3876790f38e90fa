import { describe, expect, it } from 'vitest';
import { assignTasks } from '../../../lib/kafka/task-assignment.ts';

const tasks = (sub: number, n: number) => Array.from({ length: n }, (_, p) => `${sub}_${p}`);
const sizes = (assigned: Map<string, string[]>) => [...assigned.values()].map((t) => t.length);

describe('assignTasks', () => {
  it('spreads tasks evenly over members, in task order, when nobody ran any', () => {
    const assigned = assignTasks([...tasks(0, 6), ...tasks(1, 2)], [{ id: 'b', previous: [] }, { id: 'a', previous: [] }, { id: 'c', previous: [] }]);
    expect(Object.fromEntries(assigned)).toEqual({ a: ['0_0', '0_3', '1_0'], b: ['0_1', '0_4', '1_1'], c: ['0_2', '0_5'] });
  });

  it('keeps each member’s previous tasks where balance allows: a new member takes only what it must', () => {
    const before = assignTasks(tasks(0, 6), [{ id: 'a', previous: [] }, { id: 'b', previous: [] }]);
    const after = assignTasks(tasks(0, 6), [
      { id: 'a', previous: before.get('a')! },
      { id: 'b', previous: before.get('b')! },
      { id: 'c', previous: [] },
    ]);
    expect(sizes(after)).toEqual([2, 2, 2]);
    for (const id of ['a', 'b']) for (const task of after.get(id)!) expect(before.get(id)).toContain(task);
    // A member that left: its tasks go to the others, who keep theirs.
    const left = assignTasks(tasks(0, 6), [{ id: 'a', previous: after.get('a')! }, { id: 'c', previous: after.get('c')! }]);
    expect(sizes(left)).toEqual([3, 3]);
    for (const id of ['a', 'c']) for (const task of after.get(id)!) expect(left.get(id)).toContain(task);
  });

  it('gives every task to exactly one member, even when previous claims overlap or name tasks that are gone', () => {
    const assigned = assignTasks(tasks(0, 5), [
      { id: 'a', previous: ['0_0', '0_1', '0_2', '0_9'] },
      { id: 'b', previous: ['0_0', '0_1'] },
    ]);
    expect(Object.fromEntries(assigned)).toEqual({ a: ['0_0', '0_1', '0_2'], b: ['0_3', '0_4'] });
    const all = [...assigned.values()].flat().sort();
    expect(all).toEqual(tasks(0, 5));
  });

  it('more members than tasks: some get none; no members: nothing to give', () => {
    expect(sizes(assignTasks(tasks(0, 2), [{ id: 'a', previous: [] }, { id: 'b', previous: [] }, { id: 'c', previous: [] }]))).toEqual([1, 1, 0]);
    expect(assignTasks(tasks(0, 2), []).size).toBe(0);
  });
});
