import { SingleBar } from 'cli-progress';
import type { Processor } from './processes.ts';

/** One timed run of a scenario. */
export interface RunResult {
  readonly eventsPerSecond: number;
  readonly seconds: number;
  /** CPU seconds the process spent per million events, counted while the events flowed. */
  readonly cpuSecondsPerMillion: number;
  readonly peakRssMb: number;
}

/**
 * Polls `progress` until it reaches `total`, timing from the first progress seen (start-up and
 * group joins are not the scenario's speed) and reading the process's CPU at both ends. Call it
 * once the process said it is ready.
 */
export async function timeRun(
  label: string,
  processor: Processor,
  total: number,
  progress: () => Promise<number>,
  timeoutMs: number,
): Promise<RunResult> {
  const readyAt = performance.now();
  const cpuAtReady = processor.cpuSeconds();
  const bar = new SingleBar({ format: `  ${label.padEnd(34)} {bar} {percentage}% | {value}/{total} | {rate}/s`, hideCursor: true, stream: process.stderr });
  bar.start(total, 0, { rate: 0 });
  const deadline = Date.now() + timeoutMs;
  let firstAt: number | undefined;
  let cpuAtFirst = 0;
  let doneAtFirst = 0;
  let done = 0;
  try {
    while (done < total) {
      if (Date.now() > deadline) throw new Error(`${label}: ${done}/${total} after ${timeoutMs} ms\n${processor.stderr()}`);
      done = await progress();
      const now = performance.now();
      // A producer exits once done: the last readings taken while it ran are what counts.
      processor.peakRssMb();
      const cpuNow = processor.cpuSeconds();
      if (firstAt === undefined && done > 0) {
        firstAt = now;
        doneAtFirst = done;
        cpuAtFirst = cpuNow;
      }
      const rate = firstAt === undefined || now === firstAt ? 0 : Math.round((done - doneAtFirst) / ((now - firstAt) / 1000));
      bar.update(Math.min(done, total), { rate });
      if (done < total) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    bar.stop();
  }
  // The events before the first reading came before the clock started: they do not count,
  // unless they were all of them (a run shorter than one poll): then time it from `readyAt`.
  const all = doneAtFirst >= total;
  const seconds = (performance.now() - (all ? readyAt : firstAt!)) / 1000;
  const timed = all ? total : total - doneAtFirst;
  const cpu = processor.cpuSeconds() - (all ? cpuAtReady : cpuAtFirst);
  return {
    eventsPerSecond: Math.round(timed / seconds),
    seconds,
    cpuSecondsPerMillion: (cpu / timed) * 1_000_000,
    peakRssMb: processor.peakRssMb(),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
