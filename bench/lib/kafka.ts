import { Kafka, logLevel, type Admin } from 'kafkajs';

/** The bench's own view of the broker: topics, watermarks and group positions. */
export class BenchKafka {
  readonly kafka: Kafka;
  readonly #admin: Admin;

  constructor(readonly brokers: string) {
    this.kafka = new Kafka({ clientId: 'streamrun-bench', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
    this.#admin = this.kafka.admin();
  }

  connect(): Promise<void> {
    return this.#admin.connect();
  }

  async createTopic(topic: string, partitions = 6): Promise<void> {
    await this.#admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  }

  /** Records in a topic (sum of high watermarks; topics here are never compacted or trimmed). */
  async size(topic: string): Promise<number> {
    const offsets = await this.#admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  }

  /** Records of `topic` the group has committed past. */
  async committed(group: string, topic: string): Promise<number> {
    const [offsets] = await this.#admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  }

  /** Deletes every topic whose name holds `mark`: the run's own, and the internal ones its processors made. */
  async deleteTopicsMarked(mark: string): Promise<void> {
    const topics = (await this.#admin.listTopics()).filter((t) => t.includes(mark));
    if (topics.length > 0) await this.#admin.deleteTopics({ topics }).catch(() => {});
  }

  disconnect(): Promise<void> {
    return this.#admin.disconnect();
  }
}
