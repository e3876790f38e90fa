import { randomUUID, timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { HttpRoutes } from 'streamrun';
import type { Database } from '../../lib/connectors/postgres.ts';
import { ValidationError, validateEvent, type Event } from './event.ts';
import { defaultLimit, encodeCursor, listFilter, maxLimit, text, type ListQuery } from './params.ts';
import { getEvent, latestWindows, listEvents, typeStats, type EventView } from './queries.ts';
import { maxDepth, nestsTooDeep } from './storable.ts';

export interface EventsApiOptions {
  /** The database, once setup opened it. */
  readonly db: () => Database;
  /** Resolves once Kafka acknowledged every event. */
  readonly publish: (events: readonly Event[]) => Promise<void>;
  /** Records in the dead-letter topic. */
  readonly deadLetters: () => Promise<number>;
  /** Counts the events a POST took in, or turned away (invalid, or Kafka did not acknowledge them). */
  readonly ingested: (outcome: 'accepted' | 'refused', events: number) => void;
  /** When set, every route that serves data wants `Authorization: Bearer <token>`: all but /, /health, /metrics, /dashboard and /docs. */
  readonly token?: string | undefined;
}

export const maxBatch = 1000;
/**
 * Stored events do not change (a replay writes the same row again), so `GET /events/:id` keeps
 * the ones it read: a hot event costs no database round trip. Misses are not kept (the event
 * may land a moment later), and entries expire, so a row rewritten by a replay shows within a
 * minute.
 */
const cachedEvents = 50_000;
const cacheTtlMs = 60_000;
/** Open without the token: they serve no data (the dashboard shows what /metrics does; `/` links the others). */
const openPaths = /^\/(?:$|(?:health|metrics|dashboard|docs)(?:\/|$))/;

const eventSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'assigned (a UUID) when absent' },
    type: { type: 'string' },
    source: { type: 'string', description: "default 'http'" },
    timestamp: { description: 'ms since the epoch or ISO-8601; default: now', anyOf: [{ type: 'integer' }, { type: 'string' }] },
    payload: { description: 'anything; "30C", 21.5 or { value, unit } give a numeric reading' },
  },
} as const;

/**
 * The query and ingest API of the event pipeline: `POST /events` publishes to Kafka,
 * `GET /events…` reads what the topology stored in PostgreSQL. OpenAPI at `/docs`.
 */
export function eventsApi(options: EventsApiOptions): HttpRoutes {
  const cache = new LRUCache<string, EventView>({ max: cachedEvents, ttl: cacheTtlMs });
  return async (server) => {
    await server.register(swagger, {
      openapi: {
        info: { title: 'streamrun event pipeline', version: '1' },
        ...(options.token === undefined ? {} : { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }, security: [{ bearer: [] }] }),
      },
    });
    await server.register(swaggerUi, { routePrefix: '/docs' });

    // On the root, so it guards the runner's own /stores routes too.
    const { token } = options;
    if (token !== undefined) {
      server.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        if (openPaths.test(request.url) || bearerMatches(request.headers.authorization, token)) return;
        await reply.code(401).send({ error: 'unauthorized', message: 'expected Authorization: Bearer <STREAMRUN_API_TOKEN>' });
      });
    }
    await server.register(async (api) => routes(api, options, cache));
  };
}

/** The /events routes, in their own fastify context: its JSON parser and 400s stay theirs. */
function routes(server: FastifyInstance, options: EventsApiOptions, cache: LRUCache<string, EventView>): void {
  // fastify's own JSON parser hands any depth on, and whatever walks it recursively later
  // overflows the stack: this one refuses a deep body before parsing it.
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, async (_request: FastifyRequest, body: string | Buffer) => {
    const json = body.toString();
    if (json === '') return undefined;
    if (nestsTooDeep(json)) throw new ValidationError('body', `nested deeper than ${maxDepth} levels`);
    try {
      return JSON.parse(json) as unknown;
    } catch (error) {
      throw new ValidationError('body', `not JSON (${(error as Error).message})`);
    }
  });
  // A ValidationError is the client's: 400 naming the field. Anything else goes on to the
  // server's handler (a 500 with a request id).
  server.setErrorHandler(async (error, request, reply) => {
    // Invalid, too large, or not acknowledged by Kafka: the whole request is turned away (a
    // body that did not parse counts as one event).
    if (request.method === 'POST' && request.routeOptions.url === '/events') {
      options.ingested('refused', Array.isArray(request.body) ? Math.max(1, request.body.length) : 1);
    }
    if (!(error instanceof ValidationError)) throw error;
    return reply.code(400).send({ error: 'bad_request', message: error.message, field: error.field });
  });

  server.post<{ Querystring: { eventType?: string; eventData?: string }; Body: unknown }>(
    '/events',
    {
      schema: {
        summary: 'Publish events: ?eventType=…&eventData=… (answers 200 "Event published!"), or a JSON event or array of up to 1,000 (answers 202 with their ids)',
        querystring: { type: 'object', properties: { eventType: { type: 'string' }, eventData: { type: 'string' } } },
        // Not `body`: fastify would refuse the query-string form, which has none. Checked by validateEvent.
        description: `The body: one event or an array of events, each ${JSON.stringify(eventSchema)}`,
      },
    },
    async (request, reply) => {
      const now = Date.now();
      const defaults = { id: randomUUID, source: 'http', timestamp: now };
      const { eventType, eventData } = request.query;
      if (eventType !== undefined) {
        await options.publish([validateEvent({ type: eventType, payload: eventData ?? null }, defaults, '')]);
        options.ingested('accepted', 1);
        return reply.code(200).type('text/plain; charset=utf-8').send('Event published!');
      }
      const body = request.body;
      if (body === undefined || body === null) throw new ValidationError('body', 'expected a JSON event or an array of events, or ?eventType=');
      const inputs = Array.isArray(body) ? body : [body];
      if (inputs.length === 0) throw new ValidationError('body', 'the array is empty');
      if (inputs.length > maxBatch) throw new ValidationError('body', `at most ${maxBatch} events per request, got ${inputs.length}`);
      // Every event is checked before any is published: a batch goes in whole or not at all.
      const events = inputs.map((input, i) => validateEvent(input, defaults, Array.isArray(body) ? `[${i}]` : ''));
      await options.publish(events);
      options.ingested('accepted', events.length);
      return reply.code(202).send({ ids: events.map((e) => e.id) });
    },
  );

  server.get<{ Querystring: ListQuery }>(
    '/events',
    {
      schema: {
        summary: 'Stored events, newest first, a page at a time: pass `next` back as `cursor`',
        querystring: {
          type: 'object',
          properties: {
            type: { type: 'string' },
            source: { type: 'string' },
            from: { type: 'string', description: 'event time, inclusive: ISO 8601 with a zone or ms since the epoch, years 1 to 9999' },
            to: { type: 'string', description: 'event time, exclusive, not before from: ISO 8601 with a zone or ms since the epoch' },
            cursor: { type: 'string' },
            // A string, read by listFilter: fastify's coercion would take 1e3 or 1.0.
            limit: { type: 'string', description: `an integer from 1 to ${maxLimit}, default ${defaultLimit}` },
          },
        },
      },
    },
    async (request) => {
      const page = await listEvents(options.db(), listFilter(request.query));
      return { events: page.events, next: page.next === null ? null : encodeCursor(page.next) };
    },
  );

  const stats = async () => ({
    totals: await typeStats(options.db()),
    windows: await latestWindows(options.db(), 50),
    deadLetters: await options.deadLetters(),
    generatedAt: new Date().toISOString(),
  });
  const statsSchema = { summary: 'Totals per type, the rate over the last minute, the newest 1-minute windows and the dead-letter count' };
  server.get('/events/stats', { schema: statsSchema }, stats);
  server.get('/events/all', { schema: { ...statsSchema, description: 'the same as /events/stats, at the original demo\'s path' } }, stats);

  server.get<{ Params: { id: string } }>(
    '/events/:id',
    { schema: { summary: 'One stored event', params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } },
    async (request, reply) => {
      const id = text('id', request.params.id);
      let event = cache.get(id) ?? null;
      if (event === null) {
        event = await getEvent(options.db(), id);
        if (event !== null) cache.set(id, event);
      }
      if (event === null) return reply.code(404).send({ error: 'not_found', message: `no event with id "${request.params.id}"` });
      return event;
    },
  );
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
