import * as hdr from 'hdr-histogram-js';
import type { BenchKafka } from './kafka.ts';

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/**
 * Reads a topic from its start and records, for every record, how long ago it was first
 * produced: its timestamp is the input record's (every implementation here carries it over),
 * set by the load generator when it sent the input.
 */
export class LatencyReader {
  readonly #histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3 });
  readonly #consumer;
  #count = 0;

  constructor(kafka: BenchKafka, readonly topic: string) {
    this.#consumer = kafka.kafka.consumer({ groupId: `latency-${topic}`, maxWaitTimeInMs: 5, minBytes: 1 });
  }

  get count(): number {
    return this.#count;
  }

  /** Resolves once the reader has its partitions, so no output is read late because it was not listening. */
  async start(): Promise<void> {
    await this.#consumer.connect();
    const joined = new Promise<void>((resolve) => this.#consumer.on(this.#consumer.events.GROUP_JOIN, () => resolve()));
    await this.#consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.#consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const m of batch.messages) this.#histogram.recordValue(Math.max(1, now - Number(m.timestamp)));
        this.#count += batch.messages.length;
      },
    });
    await joined;
  }

  async stop(): Promise<LatencySummary> {
    await this.#consumer.disconnect();
    const h = this.#histogram;
    return {
      count: this.#count,
      p50: h.getValueAtPercentile(50),
      p99: h.getValueAtPercentile(99),
      p999: h.getValueAtPercentile(99.9),
      max: h.maxValue,
    };
  }
}
