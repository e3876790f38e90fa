/**
 * The stream time of one windowed node (or join, or repartition sink): how far event time has
 * got in the records that can reach it, never moving back.
 *
 * A record of a user topic advances its topic's time to its own timestamp, as in Kafka Streams.
 * A repartition topic is different: every task of the sub-topology before it writes into each
 * of its partitions, in whatever order the tasks were scheduled, so one task's backlog may
 * arrive long before another's. Its time is the *earliest* over its writers, each writer's being
 * the watermark its records and watermark records carry (Flink's rule): a record is then late
 * only if it was late in its own writer. A writer that has said nothing new for `idleMs` stops
 * holding the others back, or one quiet input partition would keep every window open. A node
 * that extracts its own event time gives its clock the times it extracted, per writer, and not
 * the watermarks: those are in record time, which its event time may lag by far more than grace.
 *
 * With several topics, the node's time is the latest over them, as Kafka Streams' task time,
 * but no later than any topic still holding it: a user topic whose partition has records this
 * task has yet to read (`behind`), or a repartition topic with a writer that is not idle. So a
 * backlog read first, or an upstream task that ran ahead, cannot make the other input's records
 * late; once every input has caught up, the rule is Kafka Streams' again.
 */
export class EventClock {
  readonly #topics = new Map<string, TopicTime>();
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #behind: (topic: string) => boolean;
  /** Whether a repartition topic is among the topics: only then does the wall clock matter. */
  readonly #waits: boolean;
  /** One user topic: its latest record is the time, nothing to weigh. */
  readonly #plain: boolean;
  #time: number;

  /**
   * @param topics the source topics whose records reach the node, with how many tasks write
   *   each (0 for a user topic, which has no writers to wait for)
   * @param floor the stream time restored with the node's state
   * @param behind whether the task has records of a user topic still to read
   */
  constructor(
    topics: ReadonlyMap<string, number>,
    options: { floor: number; idleMs: number; now: () => number; behind: (topic: string) => boolean },
  ) {
    this.#idleMs = options.idleMs;
    this.#now = options.now;
    this.#behind = options.behind;
    this.#time = options.floor;
    const startedAt = options.now();
    for (const [topic, writers] of topics) this.#topics.set(topic, new TopicTime(writers, startedAt));
    this.#waits = [...topics.values()].some((writers) => writers > 0);
    this.#plain = !this.#waits && topics.size <= 1;
  }

  get time(): number {
    return this.#time;
  }

  /**
   * Takes an event time seen on `topic` (from writer `writer` for a repartition topic) and
   * returns the node's stream time after it.
   */
  observe(topic: string, writer: number, time: number): number {
    const lanes = this.#topics.get(topic);
    if (lanes === undefined) {
      // A topic the graph did not say reaches this node: count it like a user topic.
      if (time > this.#time) this.#time = time;
      return this.#time;
    }
    lanes.observe(writer, time, this.#now);
    if (this.#plain) {
      if (time > this.#time) this.#time = time;
      return this.#time;
    }
    return this.refresh();
  }

  /** Recomputes the time, as writers may have gone idle and inputs caught up since the last record. */
  refresh(): number {
    const now = this.#waits ? this.#now() : 0;
    let latest = Number.NEGATIVE_INFINITY;
    let held = Number.POSITIVE_INFINITY;
    for (const [topic, lanes] of this.#topics) {
      const time = lanes.time(now, this.#idleMs);
      if (time > latest) latest = time;
      if (time < held && (lanes.writers === 0 ? this.#behind(topic) : lanes.waiting(now, this.#idleMs))) held = time;
    }
    const time = Math.min(latest, held);
    if (time > this.#time) this.#time = time;
    return this.#time;
  }
}

/** One topic's time: its records' latest, or for a repartition topic its writers' earliest. */
class TopicTime {
  /** How many tasks write the topic: 0 for a user topic. */
  readonly writers: number;
  /** By writer (a user topic has one, 0): its latest time and when it last moved. */
  readonly #latest: number[];
  readonly #movedAt: number[];

  constructor(writers: number, startedAt: number) {
    this.writers = writers;
    const lanes = Math.max(1, writers);
    this.#latest = new Array<number>(lanes).fill(Number.NEGATIVE_INFINITY);
    // A writer not heard from yet holds the others back for `idleMs` from the start.
    this.#movedAt = new Array<number>(lanes).fill(startedAt);
  }

  observe(writer: number, time: number, now: () => number): void {
    const lane = this.writers === 0 ? 0 : writer;
    // A writer beyond those expected (the topic has more partitions than its writer had): wait for it too.
    while (lane >= this.#latest.length) {
      this.#latest.push(Number.NEGATIVE_INFINITY);
      this.#movedAt.push(now());
    }
    if (time > this.#latest[lane]!) {
      this.#latest[lane] = time;
      if (this.writers > 0) this.#movedAt[lane] = now();
    }
  }

  /** Whether a writer has spoken within `idleMs`: the topic's time is then theirs to move. */
  waiting(now: number, idleMs: number): boolean {
    for (let lane = 0; lane < this.#movedAt.length; lane++) if (now - this.#movedAt[lane]! <= idleMs) return true;
    return false;
  }

  time(now: number, idleMs: number): number {
    if (this.writers === 0) return this.#latest[0]!;
    let earliest = Number.POSITIVE_INFINITY;
    let latest = Number.NEGATIVE_INFINITY;
    for (let lane = 0; lane < this.#latest.length; lane++) {
      const time = this.#latest[lane]!;
      if (time > latest) latest = time;
      if (now - this.#movedAt[lane]! > idleMs) continue;
      if (time < earliest) earliest = time;
    }
    // Every writer idle: nothing holds the topic back but what it has seen.
    return earliest === Number.POSITIVE_INFINITY ? latest : earliest;
  }
}
