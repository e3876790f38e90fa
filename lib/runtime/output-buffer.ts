import type { OutputRecord } from '../kafka/client.ts';

/**
 * The records a task produced since its last flush, one lane per output topic. Lanes are
 * created when the graph is compiled, so a sink appends without looking anything up.
 */
export class OutputBuffer {
  readonly lanes = new Map<string, OutputRecord[]>();
  size = 0;

  lane(topic: string): OutputRecord[] {
    let lane = this.lanes.get(topic);
    if (lane === undefined) {
      lane = [];
      this.lanes.set(topic, lane);
    }
    return lane;
  }

  /** After the broker acknowledged them: the lanes stay, their arrays stay, the records go. */
  clear(): void {
    for (const lane of this.lanes.values()) lane.length = 0;
    this.size = 0;
  }
}
