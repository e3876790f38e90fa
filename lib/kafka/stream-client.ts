import type { StreamClient } from './client.ts';
import { createKafkaClient, type KafkaClientOptions } from './kafkajs-client.ts';
import { createKafkatsClient } from './kafkats-client.ts';

/** The Kafka clients streamrun runs on; the first is the default (see the README for why). */
export const clientNames = ['kafkajs', 'kafkats'] as const;
export type ClientName = (typeof clientNames)[number];

export function createStreamClient(name: ClientName, options: KafkaClientOptions): StreamClient {
  return name === 'kafkats' ? createKafkatsClient(options) : createKafkaClient(options);
}
