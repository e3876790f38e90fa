import type { OutputProducer, OutputRecord } from '../kafka/client.ts';

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

  /**
   * Resolves once the broker acknowledged these records (and those sent with them). When
   * `signal` aborts first it rejects with the signal's reason: records still waiting are
   * dropped, so a broker that is away does not make them pile up; records already in flight
   * may still arrive.
   */
  send(lanes: ReadonlyMap<string, readonly OutputRecord[]>, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const abandon = () => {
        this.#waiting = this.#waiting.filter((w) => w !== waiting);
        reject(signal!.reason);
      };
      const waiting: Waiting = {
        lanes,
        resolve: () => {
          signal?.removeEventListener('abort', abandon);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', abandon);
          reject(error);
        },
      };
      signal?.addEventListener('abort', abandon, { once: true });
      this.#waiting.push(waiting);
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
