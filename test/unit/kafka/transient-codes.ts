/**
 * The broker answers both clients must call transient, by code, with Kafka's names for them
 * (from Kafka's protocol guide, not from either client's table).
 */
export const transientCodes: readonly (readonly [number, string])[] = [
  [3, 'UNKNOWN_TOPIC_OR_PARTITION'],
  [5, 'LEADER_NOT_AVAILABLE'],
  [6, 'NOT_LEADER_OR_FOLLOWER'],
  [7, 'REQUEST_TIMED_OUT'],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS'],
  [15, 'COORDINATOR_NOT_AVAILABLE'],
  [16, 'NOT_COORDINATOR'],
];
