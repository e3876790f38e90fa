import { describe, expect, it } from 'vitest';
import { EventClock } from '../../../lib/runtime/event-clock.ts';

const NONE = Number.NEGATIVE_INFINITY;

function clock(topics: Record<string, number>, options: { floor?: number; idleMs?: number; behind?: string[] } = {}) {
  let wall = 1_000;
  const behind = new Set(options.behind);
  const c = new EventClock(new Map(Object.entries(topics)), {
    floor: options.floor ?? NONE,
    idleMs: options.idleMs ?? 5_000,
    now: () => wall,
    behind: (topic) => behind.has(topic),
  });
  return { c, pass: (ms: number) => (wall += ms), behind };
}

describe('EventClock', () => {
  it('a user topic: the latest record time, never moving back', () => {
    const { c } = clock({ in: 0 });
    expect(c.time).toBe(NONE);
    expect(c.observe('in', 0, 10)).toBe(10);
    expect(c.observe('in', 0, 4)).toBe(10);
    expect(c.observe('in', 7, 12)).toBe(12);
  });

  it('several user topics: the latest over all of them, as Kafka Streams’ task time', () => {
    const { c } = clock({ a: 0, b: 0 });
    c.observe('a', 0, 100);
    expect(c.observe('b', 0, 5)).toBe(100);
  });

  it('a repartition topic: the earliest over its writers, waiting for each it has not heard', () => {
    const { c } = clock({ r: 3 });
    expect(c.observe('r', 0, 100)).toBe(NONE);
    expect(c.observe('r', 2, 50)).toBe(NONE);
    expect(c.observe('r', 1, 70)).toBe(50);
    expect(c.observe('r', 2, 200)).toBe(70);
    expect(c.observe('r', 1, 300)).toBe(100);
    // A writer's time never goes back.
    expect(c.observe('r', 0, 10)).toBe(100);
  });

  it('a writer silent for longer than idleMs stops holding the topic back; it counts again once it speaks', () => {
    const { c, pass } = clock({ r: 2 }, { idleMs: 5_000 });
    c.observe('r', 0, 100);
    pass(5_000);
    expect(c.refresh()).toBe(NONE);
    pass(1);
    // Writer 1 never said anything and writer 0 moved at the start: both idle, the latest counts.
    expect(c.refresh()).toBe(100);
    c.observe('r', 0, 150);
    expect(c.time).toBe(150);
    c.observe('r', 1, 120);
    // Writer 1 is back at 120, but the time does not go back.
    expect(c.time).toBe(150);
    expect(c.observe('r', 0, 400)).toBe(150);
    expect(c.observe('r', 1, 300)).toBe(300);
  });

  it('only moving counts as being heard: a writer repeating its time goes idle', () => {
    const { c, pass } = clock({ r: 2 }, { idleMs: 1_000 });
    c.observe('r', 0, 10);
    c.observe('r', 1, 50);
    pass(600);
    c.observe('r', 0, 10);
    c.observe('r', 1, 60);
    pass(600);
    expect(c.refresh()).toBe(60);
  });

  it('a writer beyond those expected is waited for as well', () => {
    const { c } = clock({ r: 1 });
    c.observe('r', 0, 100);
    expect(c.time).toBe(100);
    c.observe('r', 3, 40);
    expect(c.observe('r', 0, 200)).toBe(100);
  });

  it('starts from the floor restored with the state, and a topic it was not told of counts as a user topic', () => {
    const { c } = clock({ r: 2 }, { floor: 500 });
    expect(c.time).toBe(500);
    expect(c.observe('r', 0, 900)).toBe(500);
    expect(c.observe('other', 0, 800)).toBe(800);
  });

  it('the latest over topics, but no later than a repartition topic whose writers are live', () => {
    const { c, pass } = clock({ r: 2, in: 0 }, { idleMs: 5_000 });
    c.observe('r', 0, 100);
    c.observe('r', 1, 30);
    expect(c.time).toBe(30);
    // The user topic ran ahead; the writers of r have records up to 30 out so far.
    expect(c.observe('in', 0, 60)).toBe(30);
    expect(c.observe('r', 1, 45)).toBe(45);
    pass(5_001);
    // Both writers quiet: the latest over the topics counts.
    expect(c.refresh()).toBe(100);
  });

  it('a user topic with records still to read holds the others back at its own latest', () => {
    const { c, behind } = clock({ a: 0, b: 0 }, { behind: ['b'] });
    // The whole of a's backlog came first; b has not been read yet.
    expect(c.observe('a', 0, 1_000)).toBe(NONE);
    expect(c.observe('b', 0, 10)).toBe(10);
    expect(c.observe('b', 0, 400)).toBe(400);
    // Late within b itself: b's own latest is what it is judged by.
    expect(c.observe('b', 0, 300)).toBe(400);
    behind.delete('b');
    expect(c.refresh()).toBe(1_000);
    behind.add('a');
    // Never back.
    expect(c.refresh()).toBe(1_000);
  });

  it('with every input caught up it is Kafka Streams’ rule, whichever topic the record is on', () => {
    const { c, behind } = clock({ a: 0, b: 0 });
    expect(c.observe('a', 0, 100)).toBe(100);
    // b's batch in hand: b holds at its latest, yet the time never goes back.
    behind.add('b');
    expect(c.observe('b', 0, 50)).toBe(100);
    expect(c.observe('b', 0, 150)).toBe(150);
    behind.delete('b');
    expect(c.observe('a', 0, 120)).toBe(150);
  });
});
