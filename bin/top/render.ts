import type { Percentiles, Snapshot } from '../../lib/metrics/snapshot.ts';

/** A row of numbers: a label, then right-aligned cells; a string is a line as it is. */
type Row = readonly [string, ...string[]] | string;

/**
 * One snapshot as the small table `streamrun top` draws: plain numbers (no separators), so
 * `--once` output is easy to read from a script too.
 */
export function render(snapshot: Snapshot, url: string): string {
  const { recent } = snapshot;
  const rate = (perSecond: number | undefined) => (perSecond === undefined ? '-' : perSecond.toFixed(1));
  const ms = (p: Percentiles) => [p.p50, p.p95, p.p99].map((v) => (v === null ? '-' : v.toFixed(1)));
  const rows: Row[] = [
    `streamrun top: ${snapshot.appId} at ${url}, ${new Date(snapshot.time).toISOString()}`,
    '',
    ['', 'total', 'per s'],
    ['consumed', String(snapshot.consumed), rate(recent?.consumedPerSecond)],
    ['produced', String(snapshot.produced), rate(recent?.producedPerSecond)],
    ['errors', String(snapshot.errors)],
    ['dead letters', String(snapshot.deadLetters)],
    ['DLQ records', String(snapshot.dlqRecords)],
    '',
    ['latency ms', 'p50', 'p95', 'p99'],
    recent === null ? ['recent', '-', '-', '-'] : [`last ${recent.seconds.toFixed(1)} s`, ...ms(recent.latency)],
    ['since start', ...ms(snapshot.latency)],
    '',
    ['lag', String(snapshot.lagTotal)],
    ...snapshot.lagByPartition.map(({ topic, partition, lag }): Row => [`  ${topic}-${partition}`, String(lag)]),
  ];
  // Wide enough for the longest label (a partition of a long topic name), so the numbers line up.
  const width = Math.max(14, ...rows.map((row) => (typeof row === 'string' ? 0 : row[0].length + 2)));
  const lines = rows.map((row) => (typeof row === 'string' ? row : `${row[0].padEnd(width)}${row.slice(1).map((c) => c.padStart(10)).join('')}`.trimEnd()));
  const breakers = snapshot.breakers.map(({ name, state }) => `${name} ${state}`).join(', ') || 'none';
  return [
    ...lines,
    '',
    `${'partitions'.padEnd(width)}${snapshot.assignedPartitions} assigned, ${snapshot.pausedPartitions} paused`,
    `${'breakers'.padEnd(width)}${breakers}`,
  ].join('\n');
}
