import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Processors run from the repository root, where `bench/processors/…` and `tsx` resolve. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A processor under test, running in its own process so its CPU and memory are its own. */
export interface Processor {
  readonly pid: number;
  /** Settles when the process prints the line that says it can take records. */
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  /** CPU seconds (user + system) so far, read from /proc. */
  cpuSeconds(): number;
  /** Peak resident memory so far, in MB (VmHWM). */
  peakRssMb(): number;
  /** What it printed on stderr, for failures. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

const ticksPerSecond = 100;

export function startProcessor(command: string, args: readonly string[], env: Record<string, string>, ready: RegExp): Processor {
  const child: ChildProcess = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const readyPromise = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (ready.test(out) || ready.test(err)) resolve();
    };
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      check();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-20_000);
      check();
    });
    void exited.then((code) => reject(new Error(`${command} ${args.join(' ')} exited (${code}) before it was ready:\n${err}`)));
  });
  readyPromise.catch(() => {});
  const pid = child.pid!;
  let lastCpu = 0;
  let lastRss = 0;
  return {
    pid,
    ready: readyPromise,
    exited,
    cpuSeconds() {
      try {
        // Fields 14 and 15 (utime, stime) after the parenthesised command name.
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        lastCpu = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      } catch {
        // Gone: keep the last reading.
      }
      return lastCpu;
    },
    peakRssMb() {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        if (hwm !== undefined) lastRss = Number(hwm) / 1024;
      } catch {
        // Gone: keep the last reading.
      }
      return lastRss;
    },
    stderr: () => err,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
