/**
 * A test-only switch: `STREAMRUN_CRASH_AT=<point>[:<n>]` kills the process with SIGKILL the n-th
 * time (default: the first) it reaches `point`, so tests can stop it exactly between two steps of
 * a commit or in the middle of a restore, which no outside signal can aim at.
 */
export type CrashPoint = 'after-send' | 'after-offsets' | 'before-commit' | 'after-commit' | 'during-restore';

const crashPoints: readonly CrashPoint[] = ['after-send', 'after-offsets', 'before-commit', 'after-commit', 'during-restore'];

const asked = parse(process.env['STREAMRUN_CRASH_AT']);
let reached = 0;

export function crashPoint(point: CrashPoint): void {
  if (asked === undefined || asked.point !== point || ++reached < asked.times) return;
  process.stderr.write(`streamrun: crashing at ${point} (STREAMRUN_CRASH_AT)\n`);
  process.kill(process.pid, 'SIGKILL');
}

function parse(value: string | undefined): { point: CrashPoint; times: number } | undefined {
  if (value === undefined || value === '') return undefined;
  const [point, times = '1'] = value.split(':');
  if (!crashPoints.includes(point as CrashPoint) || !/^[1-9]\d*$/.test(times)) {
    throw new Error(`STREAMRUN_CRASH_AT: expected one of ${crashPoints.join(', ')}, optionally :<n>, got "${value}"`);
  }
  return { point: point as CrashPoint, times: Number(times) };
}
