import { StreamrunError } from '../errors/streamrun-error.ts';
import type { RecordHeaders } from '../graph/nodes.ts';
import type { Serde } from '../serde/serde.ts';
import type { HarnessOutput, TaskHarness } from './task-harness.ts';

/** A record to pipe into a topic. */
export interface TestInputRecord<K, V> {
  readonly key: K | null;
  /** `null` is a tombstone: a table deletes the key, a stream skips it. */
  readonly value: V | null;
  /** Event time, ms since the epoch. Default: the driver's wall clock. */
  readonly timestamp?: number;
  readonly headers?: RecordHeaders;
}

/** A record the topology wrote to a topic, read back with the topic's serdes. */
export interface TestRecord<K, V> {
  readonly key: K | null;
  readonly value: V | null;
  /** Ms since the epoch: the record's own (a window's result: its newest record's). */
  readonly timestamp: number;
  readonly headers: RecordHeaders;
}

/**
 * A topic the topology reads, to pipe records into. Each record runs through the topology
 * (and every sub-topology behind its repartition topics) before the promise resolves.
 *
 * @example
 * const lines = driver.input('text-lines');
 * await lines.pipeInput('line-1', 'the quick brown fox', { timestamp: 1_000 });
 */
export interface TestInputTopic<K, V> {
  readonly topic: string;
  pipeInput(key: K | null, value: V | null, options?: { timestamp?: number; headers?: RecordHeaders }): Promise<void>;
  /** Pipes the records one after the other, in order. */
  pipeInputs(records: Iterable<TestInputRecord<K, V>>): Promise<void>;
}

/**
 * A topic the topology writes, to read what it wrote, in order. Reading takes the records: each
 * is read once, whichever handle on the topic reads it.
 *
 * @example
 * const counts = driver.output('word-counts');
 * expect(counts.readOutput()).toMatchObject({ key: 'the', value: 1 });
 */
export interface TestOutputTopic<K, V> {
  readonly topic: string;
  /** The next record, or undefined when there is none yet. */
  readOutput(): TestRecord<K, V> | undefined;
  /** Every record not read yet, in order. */
  readOutputs(): TestRecord<K, V>[];
  /**
   * Every record not read yet, as a compacted topic keeps them: the latest value per key (keys
   * compared by their bytes), a `null` value deleting the key. Throws, reading nothing, if a
   * record has no key.
   */
  readKeyValuesToMap(): Map<K, V>;
  isEmpty(): boolean;
}

/** Where a handle's records go in (stamped with its wall clock when they have no time) and come out. */
type TopicAccess = Pick<TaskHarness, 'pipe' | 'now' | 'unread'>;

/** A topic of the driver, with the serdes its records are read or written with. */
abstract class TopicHandle<K, V> {
  constructor(
    readonly topic: string,
    protected readonly serdes: { readonly key: Serde<K>; readonly value: Serde<V> },
    protected readonly access: TopicAccess,
  ) {}
}

export class TestInputTopicImpl<K, V> extends TopicHandle<K, V> implements TestInputTopic<K, V> {
  pipeInput(key: K | null, value: V | null, options: { timestamp?: number; headers?: RecordHeaders } = {}): Promise<void> {
    return this.#pipe({ key, value, ...options });
  }

  async pipeInputs(records: Iterable<TestInputRecord<K, V>>): Promise<void> {
    for (const record of records) await this.#pipe(record);
  }

  async #pipe(record: TestInputRecord<K, V>): Promise<void> {
    const { key, value, timestamp = this.access.now, headers } = record;
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new StreamrunError('INVALID_OPTIONS', `timestamp: expected ms since the epoch (≥ 0, as Kafka keeps them), got ${timestamp}`);
    }
    // A serde given for the test only (a registry serde, say) opens here; the topology's own
    // open with the driver.
    await Promise.all([this.serdes.key.open?.(), this.serdes.value.open?.()]);
    await this.access.pipe(this.topic, {
      key: key === null || key === undefined ? null : this.serdes.key.serialize(key),
      value: value === null || value === undefined ? null : this.serdes.value.serialize(value),
      timestamp,
      ...(headers === undefined ? {} : { headers }),
    });
  }
}

export class TestOutputTopicImpl<K, V> extends TopicHandle<K, V> implements TestOutputTopic<K, V> {
  readOutput(): TestRecord<K, V> | undefined {
    const next = this.access.unread(this.topic).shift();
    return next === undefined ? undefined : this.#read(next);
  }

  readOutputs(): TestRecord<K, V>[] {
    return this.access.unread(this.topic).splice(0).map((r) => this.#read(r));
  }

  readKeyValuesToMap(): Map<K, V> {
    const unread = this.access.unread(this.topic);
    if (unread.some((r) => r.key === null)) {
      throw new StreamrunError('INVALID_OPTIONS', `${this.topic} holds a record without a key: read it with readOutputs()`);
    }
    // By the key's bytes: keys that deserialize to objects (windows, JSON) are equal when their bytes are.
    const latest = new Map<string, { key: K; value: V | null }>();
    for (const record of unread.splice(0)) {
      const { key, value } = this.#read(record);
      latest.set(record.key!.toString('latin1'), { key: key!, value });
    }
    const map = new Map<K, V>();
    for (const { key, value } of latest.values()) if (value !== null) map.set(key, value);
    return map;
  }

  isEmpty(): boolean {
    return this.access.unread(this.topic).length === 0;
  }

  #read(record: HarnessOutput): TestRecord<K, V> {
    return {
      key: record.key === null ? null : this.serdes.key.deserialize(record.key),
      value: record.value === null ? null : this.serdes.value.deserialize(record.value),
      timestamp: record.timestamp,
      headers: record.headers,
    };
  }
}
