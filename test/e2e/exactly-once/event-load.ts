/**
 * HTTP load for the event pipeline that keeps a precise account of what the pipeline
 * acknowledged, while the process behind the URL is killed and replaced.
 */

export interface LoadEvent {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly payload: unknown;
}

export interface LoadResult {
  /** Ids of events in a batch answered 2xx: Kafka has them. */
  readonly acknowledged: Set<string>;
  /** Ids of events in a batch that failed after reaching the server: they may or may not be in Kafka. */
  readonly unacknowledged: Set<string>;
  /** Batches sent again because the connection was refused (they never reached a server). */
  readonly refusedRetries: number;
  /** Answers other than 2xx, by status (a 503 while Kafka was slow to acknowledge, say). */
  readonly statuses: Map<number, number>;
  /** The first answer's body for each of those statuses, to say why. */
  readonly samples: Map<number, string>;
}

/** Where the pipeline currently listens; `next` resolves once a restarted process listens somewhere new. */
export interface Target {
  url(): string;
  /** Resolves with a URL other than `stale` (the restarted process's). */
  after(stale: string): Promise<string>;
}

/** Whether fetch failed because nothing listened: the request never reached a server, so it is safe to send again. */
function refused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
  if (cause?.code === 'ECONNREFUSED') return true;
  // Node reports a refused dual-stack connect as an AggregateError of the attempts.
  return cause?.errors !== undefined && cause.errors.length > 0 && cause.errors.every((e) => e.code === 'ECONNREFUSED');
}

/**
 * Posts `batches` to `POST /events`, `concurrency` at a time, batch `b` not before
 * `b * paceMs` after the start (so the load spans the kills instead of ending before the first).
 * A refused connect is retried against the next URL; any other failure is counted and not retried.
 * Each attempt stamps its events with the time it is made, so event time follows ingest time:
 * the pipeline's windows advance their stream time also with the ingest-time watermarks of the
 * repartition topic before them, and an event stamped before a restart's downtime would be late.
 */
export async function sendEvents(
  target: Target,
  batches: readonly (readonly LoadEvent[])[],
  { concurrency, paceMs }: { concurrency: number; paceMs: number },
): Promise<LoadResult> {
  const acknowledged = new Set<string>();
  const unacknowledged = new Set<string>();
  const statuses = new Map<number, number>();
  const samples = new Map<number, string>();
  let refusedRetries = 0;
  const started = Date.now();
  let next = 0;
  const sendOne = async (batch: readonly LoadEvent[]): Promise<void> => {
    for (;;) {
      const url = target.url();
      const timestamp = Date.now();
      const body = JSON.stringify(batch.map((e) => ({ ...e, timestamp })));
      let response: Response;
      try {
        response = await fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      } catch (error) {
        if (refused(error)) {
          refusedRetries++;
          await target.after(url);
          continue;
        }
        for (const e of batch) unacknowledged.add(e.id);
        return;
      }
      // Read the body either way: an unread one holds the connection.
      const text = await response.text().catch(() => '');
      if (response.status >= 200 && response.status < 300) for (const e of batch) acknowledged.add(e.id);
      else {
        if (!samples.has(response.status)) samples.set(response.status, text.slice(0, 300));
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        for (const e of batch) unacknowledged.add(e.id);
      }
      return;
    }
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        const b = next++;
        const due = started + b * paceMs - Date.now();
        if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
        await sendOne(batches[b]!);
      }
    }),
  );
  return { acknowledged, unacknowledged, refusedRetries, statuses, samples };
}
