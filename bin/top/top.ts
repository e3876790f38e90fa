import type { Snapshot } from '../../lib/metrics/snapshot.ts';
import { render } from './render.ts';

export interface TopOptions {
  /** Print one snapshot and return. */
  readonly once: boolean;
  readonly intervalMs: number;
}

/** Long enough for a busy runner to read its lag off the broker; short enough that a dead one is told at once. */
const requestTimeoutMs = 5_000;
/** Clears the screen and moves to its top-left corner. */
const clear = '\x1b[H\x1b[2J';

/**
 * `streamrun top <url>`: polls the runner's `GET /dashboard/snapshot` and redraws it until
 * SIGINT or SIGTERM. Throws, naming the URL, when the first snapshot cannot be had; later
 * failures are shown and polling goes on (the runner may be restarting).
 */
export async function runTop(url: string, options: TopOptions): Promise<number> {
  const source = snapshotUrl(url);
  const first = await fetchSnapshot(url, source);
  if (options.once) {
    process.stdout.write(`${render(first, url)}\n`);
    return 0;
  }
  const tty = process.stdout.isTTY === true;
  const draw = (text: string) => process.stdout.write(tty ? `${clear}${text}\n` : `${text}\n\n`);
  draw(render(first, url));
  let last = first;
  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.off('error', stop);
      resolve(0);
    };
    const tick = async () => {
      try {
        last = await fetchSnapshot(url, source);
        if (!stopped) draw(render(last, url));
      } catch (error) {
        if (!stopped) draw(`${render(last, url)}\n\n${(error as Error).message}; asking again every ${options.intervalMs} ms`);
      }
      if (!stopped) timer = setTimeout(tick, options.intervalMs);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // Piped into `head`, say: the reader left, so there is no one to draw for.
    process.stdout.once('error', stop);
    timer = setTimeout(tick, options.intervalMs);
  });
}

/** The snapshot's URL under the given one, which may carry a path (a proxy serving the runner under a prefix). */
function snapshotUrl(url: string): URL {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new Error(`${url}: not a URL; expected the runner's, e.g. http://127.0.0.1:8080`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`${url}: not an http(s) URL`);
  return new URL('dashboard/snapshot', base.href.endsWith('/') ? base : `${base.href}/`);
}

async function fetchSnapshot(url: string, source: URL): Promise<Snapshot> {
  let response: Response;
  try {
    response = await fetch(source, { signal: AbortSignal.timeout(requestTimeoutMs) });
  } catch (error) {
    // fetch says only "fetch failed"; what failed (ECONNREFUSED, a DNS miss) is its cause.
    const cause = (error as { cause?: unknown }).cause;
    throw new Error(`cannot reach ${url}: ${cause instanceof Error ? cause.message : (error as Error).message}`);
  }
  const notStreamrun = `${url} is not a streamrun runner's HTTP server`;
  if (response.status !== 200) throw new Error(`${notStreamrun}: GET ${source.pathname} answered ${response.status}`);
  const body: unknown = await response.json().catch(() => undefined);
  if (!isSnapshot(body)) throw new Error(`${notStreamrun}: GET ${source.pathname} answered no snapshot`);
  return body;
}

function isSnapshot(body: unknown): body is Snapshot {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Record<string, unknown>;
  return (
    typeof b['appId'] === 'string' &&
    ['time', 'consumed', 'produced', 'lagTotal', 'dlqRecords'].every((field) => typeof b[field] === 'number') &&
    Array.isArray(b['lagByPartition']) &&
    Array.isArray(b['breakers']) &&
    typeof b['latency'] === 'object'
  );
}
