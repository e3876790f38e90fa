import { isStateDirError } from '../state/state-dir.ts';
import type { OutputProducer, TopicPartitionOffset } from '../kafka/client.ts';
import type { OutputBuffer } from './output-buffer.ts';
import { addTo, type Counters } from './stats.ts';
import type { Task } from './task.ts';

/**
 * The one step that makes a task's progress durable: at-least-once here, exactly-once in
 * exactly-once.ts (the same moves inside a transaction). Nothing else in the runtime commits.
 */
export interface CommitStep {
  /**
   * Commits the task's work on `inputs` records of a partition; counts them as consumed, and the
   * outputs, once the broker acknowledged those (exactly-once: once the transaction committed).
   */
  commit(task: Task, offsets: OffsetCommitter, inputs: ChunkInputs): Promise<void>;
  /** Forgets what the task did since its last commit: its records come again. */
  discard(task: Task): void;
  /**
   * Whether a batch told to stop (a rebalance, a stop) still commits what it finished: under
   * exactly-once the group refuses the transaction's offsets if the partition moved on, so it may.
   */
  readonly commitsWhenStopped: boolean;
}

/** The input records a commit covers: counted as consumed with its outputs. */
export interface ChunkInputs {
  readonly topic: string;
  readonly partition: number;
  readonly records: number;
}

/** Where the input offsets go: the consumer group, through the batch or the consumer. */
export interface OffsetCommitter {
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
}

/**
 * Outputs and changelog records acknowledged by every in-sync replica first, then the stores'
 * writes on disk, then the offsets: nothing is lost, and no store holds what its changelog lacks.
 * A store write that fails rejects with STATE_DIR, after the offsets the changelog covers.
 */
export function atLeastOnce(producer: OutputProducer, counters: Counters): CommitStep {
  return {
    commitsWhenStopped: false,
    discard: (task) => task.discardPending(),
    async commit(task, offsets, inputs) {
      const started = performance.now();
      const produced = outputsByTopic(task.outputs);
      task.stageChangelog();
      const acks = task.outputs.size > 0 ? await producer.send(task.outputs.lanes) : [];
      // Counted with their outputs: should the offsets not go, the records come again and are
      // written, and counted, again.
      countCommitted(counters, inputs, produced);
      task.outputs.clear();
      const positions = task.takePositions();
      try {
        task.acknowledge(acks, positions);
        await task.flushStores();
      } catch (error) {
        // Only the local copy failed (a full disk): the changelog already holds these writes,
        // so the offsets may go, and a restart restoring from it counts no record twice.
        if (isStateDirError(error) && positions.length > 0) await offsets.commit(positions);
        throw error;
      }
      if (positions.length > 0) await offsets.commit(positions);
      counters.commitDuration.observe(performance.now() - started);
    },
  };
}

/** What a commit hands the broker by topic, taken before the changelog records join the outputs. */
export function outputsByTopic(outputs: OutputBuffer): [topic: string, records: number][] {
  const counts: [string, number][] = [];
  for (const [topic, lane] of outputs.lanes) if (lane.length > 0) counts.push([topic, lane.length]);
  return counts;
}

/** Once the broker acknowledged them: the inputs as consumed, their outputs as produced. */
export function countCommitted(counters: Counters, inputs: ChunkInputs, produced: readonly [string, number][]): void {
  counters.addConsumed(inputs.topic, inputs.partition, inputs.records);
  for (const [topic, records] of produced) addTo(counters.produced, topic, records);
}
