/** Where a `streamrun dlq` command writes: lines for stdout, lines for stderr, and progress. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** Progress of a long run; drawn in place on a terminal, a plain line now and then otherwise. */
  progress(label: string, total: number): Progress;
}

export interface Progress {
  advance(by: number): void;
  /** Draws the last state (on a terminal) and ends the line. */
  done(): void;
}

/** Progress goes to stderr, so stdout stays the result alone. */
export function processOutput(): Output {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    progress: (label, total) => progress(label, total, process.stderr),
  };
}

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

const redrawMs = 100;
const lineMs = 1000;

export function progress(label: string, total: number, stream: ProgressStream, now: () => number = Date.now): Progress {
  let count = 0;
  let last = now();
  const tty = stream.isTTY === true;
  const draw = () => {
    const counts = `${count}/${total}`;
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - counts.length - 6));
    const filled = total === 0 ? width : Math.min(width, Math.floor((count / total) * width));
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counts}`);
  };
  if (tty) draw();
  return {
    advance(by) {
      count += by;
      const t = now();
      if (t - last < (tty ? redrawMs : lineMs)) return;
      last = t;
      if (tty) draw();
      else stream.write(`${label}: ${count}/${total}\n`);
    },
    done() {
      if (!tty) return;
      draw();
      stream.write('\n');
    },
  };
}
