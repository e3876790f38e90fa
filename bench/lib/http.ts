import autocannon from 'autocannon';

export interface HttpResult {
  readonly name: string;
  readonly requestsPerSecond: number;
  /** Events per second for ingest (requests × events per request). */
  readonly eventsPerSecond?: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly non2xx: number;
  readonly errors: number;
}

const connections = 100;
const warmUpSeconds = (seconds: number) => Math.max(1, Math.round(seconds / 4));
export const eventsPerRequest = 100;

function summarize(name: string, result: autocannon.Result, perRequest?: number): HttpResult {
  return {
    name,
    requestsPerSecond: Math.round(result.requests.average),
    ...(perRequest === undefined ? {} : { eventsPerSecond: Math.round(result.requests.average * perRequest) }),
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** `POST /events` with arrays of 100 events from 100 connections. */
export async function httpIngest(url: string, seconds: number): Promise<HttpResult> {
  const body = JSON.stringify(
    Array.from({ length: eventsPerRequest }, (_, i) => ({ type: ['temperature', 'humidity', 'power'][i % 3], source: `sensor-${i}`, payload: `${i / 10}C` })),
  );
  const result = await autocannon({ url: `${url}/events`, method: 'POST', connections, duration: seconds, headers: { 'content-type': 'application/json' }, body });
  return summarize('POST /events (100 events per request)', result, eventsPerRequest);
}

/** `GET /events/:id` over up to 10,000 ids the API listed, then a filtered page. */
export async function httpQueries(url: string, seconds: number): Promise<HttpResult[]> {
  // Up to 10,000 ids, walked page by page: the reads spread over them.
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = (await (await fetch(`${url}/events?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`)).json()) as {
      events: { id: string }[];
      next: string | null;
    };
    ids.push(...page.events.map((e) => e.id));
    cursor = page.next;
  } while (cursor !== null && ids.length < 10_000);
  if (ids.length === 0) throw new Error('GET /events listed no events to read back');
  let next = 0;
  const byIdOptions = {
    url,
    connections,
    requests: [{ method: 'GET' as const, setupRequest: (request: autocannon.Request) => ({ ...request, path: `/events/${ids[next++ % ids.length]}` }) }],
  };
  // A warm-up, not counted: the JIT compiles the handlers and the read cache fills, as it would
  // in a process that has served for a while.
  await autocannon({ ...byIdOptions, duration: warmUpSeconds(seconds) });
  const byId = await autocannon({ ...byIdOptions, duration: seconds });
  const listUrl = `${url}/events?type=temperature&limit=100`;
  await autocannon({ url: listUrl, connections, duration: warmUpSeconds(seconds) });
  const list = await autocannon({ url: listUrl, connections, duration: seconds });
  return [summarize('GET /events/:id', byId), summarize('GET /events?type=…&limit=100', list)];
}
