/**
 * The stream time of one windowed node (or of one repartition sink): how far event time has
 * got in the records that can reach it, never moving back.
 *
 * A record of a user topic advances its topic's time to its own timestamp, as in Kafka Streams,
 * and the node's time is the latest over its topics. A repartition topic is different: every
 * task of the sub-topology before it writes into each of its partitions, in whatever order the
 * tasks were scheduled, so one task's backlog may arrive long before another's. Its time is the
 * *earliest* over its writers, each writer's being the watermark its records and watermark
 * records carry (Flink's rule): a record is then late only if it was late in its own writer.
 * A writer that has said nothing new for `idleMs` stops holding the others back, or one
 * quiet input partition would keep every window open.
 */
export class EventClock {
  readonly #topics = new Map<string, TopicTime>();
  readonly #idleMs: number;
  readonly #now: () => number;
  /** Whether a repartition topic is among the topics: only then does the wall clock matter. */
  readonly #waits: boolean;
  #time: number;

  /**
   * @param topics the source topics whose records reach the node, with how many tasks write
   *   each (0 for a user topic, which has no writers to wait for)
   * @param floor the stream time restored with the node's state
   */
  constructor(topics: ReadonlyMap<string, number>, options: { floor: number; idleMs: number; now: () => number }) {
    this.#idleMs = options.idleMs;
    this.#now = options.now;
    this.#time = options.floor;
    const startedAt = options.now();
    for (const [topic, writers] of topics) this.#topics.set(topic, new TopicTime(writers, startedAt));
    this.#waits = [...topics.values()].some((writers) => writers > 0);
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
    // A user topic's time is its latest: the node's moves with it, no need to look at the others.
    if (!this.#waits) {
      if (time > this.#time) this.#time = time;
      return this.#time;
    }
    return this.refresh();
  }

  /** Recomputes the time, as writers may have gone idle since the last record. */
  refresh(): number {
    const now = this.#waits ? this.#now() : 0;
    let latest = Number.NEGATIVE_INFINITY;
    for (const lanes of this.#topics.values()) {
      const time = lanes.time(now, this.#idleMs);
      if (time > latest) latest = time;
    }
    if (latest > this.#time) this.#time = latest;
    return this.#time;
  }
}

/** One topic's time: its records' latest, or for a repartition topic its writers' earliest. */
class TopicTime {
  readonly #writers: number;
  /** By writer (a user topic has one, 0): its latest time and when it last moved. */
  readonly #latest: number[];
  readonly #movedAt: number[];

  constructor(writers: number, startedAt: number) {
    this.#writers = writers;
    const lanes = Math.max(1, writers);
    this.#latest = new Array<number>(lanes).fill(Number.NEGATIVE_INFINITY);
    // A writer not heard from yet holds the others back for `idleMs` from the start.
    this.#movedAt = new Array<number>(lanes).fill(startedAt);
  }

  observe(writer: number, time: number, now: () => number): void {
    const lane = this.#writers === 0 ? 0 : writer;
    // A writer beyond those expected (the topic has more partitions than its writer had): wait for it too.
    while (lane >= this.#latest.length) {
      this.#latest.push(Number.NEGATIVE_INFINITY);
      this.#movedAt.push(now());
    }
    if (time > this.#latest[lane]!) {
      this.#latest[lane] = time;
      if (this.#writers > 0) this.#movedAt[lane] = now();
    }
  }

  time(now: number, idleMs: number): number {
    if (this.#writers === 0) return this.#latest[0]!;
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
