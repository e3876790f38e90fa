/**
 * Which member of the group runs which task. A task is one partition number of a
 * sub-topology, across all its source topics: the topics are co-partitioned, so a join or a
 * merge needs partition p of each in the same task, on one member. Kafka's own assignors deal
 * in topic-partitions and would split them (and two members would then run one task at once).
 *
 * Balanced (task counts differ by at most one) and sticky: a member keeps the tasks it ran as
 * far as balance allows, so their state stays where it is instead of being restored elsewhere.
 */
export interface Member {
  readonly id: string;
  /** The tasks the member ran before this rebalance. */
  readonly previous: readonly string[];
}

export function assignTasks(tasks: readonly string[], members: readonly Member[]): Map<string, string[]> {
  const ordered = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const assigned = new Map<string, string[]>(ordered.map((m) => [m.id, []]));
  if (ordered.length === 0) return assigned;
  const sorted = [...tasks].sort(byTaskId);
  const base = Math.floor(sorted.length / ordered.length);
  // The first `extra` members to fill up may take one more than the rest.
  let extra = sorted.length % ordered.length;
  const capacity = () => base + (extra > 0 ? 1 : 0);
  const open = new Set(sorted);
  for (const member of ordered) {
    const mine = assigned.get(member.id)!;
    for (const task of [...member.previous].sort(byTaskId)) {
      if (!open.has(task) || mine.length >= capacity()) continue;
      mine.push(task);
      open.delete(task);
    }
    if (mine.length > base) extra--;
  }
  for (const task of open) {
    // The least loaded member, the first by id among equals.
    let target = ordered[0]!;
    for (const member of ordered) if (assigned.get(member.id)!.length < assigned.get(target.id)!.length) target = member;
    const mine = assigned.get(target.id)!;
    mine.push(task);
  }
  for (const list of assigned.values()) list.sort(byTaskId);
  return assigned;
}

/** `<sub>_<partition>` in numeric order. */
function byTaskId(a: string, b: string): number {
  const [sa, pa] = a.split('_').map(Number) as [number, number];
  const [sb, pb] = b.split('_').map(Number) as [number, number];
  return sa - sb || pa - pb;
}
