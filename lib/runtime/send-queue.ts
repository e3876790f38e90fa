import type { OutputProducer, OutputRecord } from './client.ts';

interface Waiting {
  readonly lanes: ReadonlyMap<string, readonly OutputRecord[]>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Sends that arrive while one is in flight go out together as the next one. The idempotent
 * producer allows one request in flight, so a hundred HTTP requests publishing at once would
 * otherwise wait for a hundred round trips in a row; merged, they wait for about two.
 */
export class SendQueue {
  readonly #producer: OutputProducer;
  #waiting: Waiting[] = [];
  #sending = false;

  constructor(producer: OutputProducer) {
    this.#producer = producer;
  }

  /** Resolves once the broker acknowledged these records (and those sent with them). */
  send(lanes: ReadonlyMap<string, readonly OutputRecord[]>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ lanes, resolve, reject });
      if (!this.#sending) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#sending = true;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      const merged = new Map<string, OutputRecord[]>();
      for (const { lanes } of batch) {
        for (const [topic, records] of lanes) {
          const lane = merged.get(topic);
          if (lane === undefined) merged.set(topic, [...records]);
          else for (const record of records) lane.push(record);
        }
      }
      try {
        await this.#producer.send(merged);
        for (const waiting of batch) waiting.resolve();
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    this.#sending = false;
  }
}
