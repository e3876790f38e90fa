import { KafkaError, isRetriable } from '@kafkats/client';

/** What @kafkats/client's errors say: whether asking again may help, and under what name. */

/** The broker answers that a fresh or busy cluster gives for a while and then stops giving, by code, with Kafka's names. */
const transientCodes: ReadonlyMap<number, string> = new Map([
  [3, 'UNKNOWN_TOPIC_OR_PARTITION'],
  [5, 'LEADER_NOT_AVAILABLE'],
  [6, 'NOT_LEADER_OR_FOLLOWER'],
  [7, 'REQUEST_TIMED_OUT'],
  // kafkats's own, for a broker its cached metadata does not list (it was down when read).
  [8, 'BROKER_NOT_AVAILABLE'],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS'],
  [15, 'COORDINATOR_NOT_AVAILABLE'],
  [16, 'NOT_COORDINATOR'],
]);

/**
 * kafkats's errors for a connection that failed, closed or timed out: its network layer's
 * (plain Errors) and the client's ConnectionError (a KafkaError with NETWORK_EXCEPTION).
 */
export const networkErrorNames = new Set(['NetworkError', 'ConnectionError', 'ConnectionTimeoutError', 'ConnectionClosedError', 'RequestTimeoutError']);

/**
 * Kafka's name for a transient broker answer in `error`, or undefined, as `StreamClient.transient`
 * wants it. Wrappers (`cause`, ours or kafkats's) and gathered errors (`errors`) are looked into.
 */
export function kafkatsTransient(error: unknown): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof KafkaError) {
      const name = transientCodes.get(e.errorCode);
      if (name !== undefined) return name;
    }
    if (networkErrorNames.has(e.name)) return e.name;
    // What Cluster.getAnyBroker throws, as a plain Error, when no broker it knows answers.
    if (e.message === 'No brokers available') return 'no brokers available';
    const { errors } = e as { errors?: unknown };
    if (Array.isArray(errors) && errors.length > 0) {
      const answers = errors.map((inner) => kafkatsTransient(inner));
      return answers.every((a) => a !== undefined) ? answers[0] : undefined;
    }
  }
  return undefined;
}

/**
 * Broker answers that say to ask again (@kafkats/client's KafkaError.retriable), and the errors of
 * its network layer (a connection refused, closed or timed out), which carry no such flag.
 */
export function retriable(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (isRetriable(e) || networkErrorNames.has(e.name)) return true;
  }
  return false;
}
