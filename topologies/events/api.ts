import { randomUUID, timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { HttpRoutes } from 'streamrun';
import type { Database } from '../../lib/connectors/postgres.ts';
import { ValidationError, validateEvent, type Event } from './event.ts';
import { getEvent, latestWindows, listEvents, typeStats, type Cursor, type EventView } from './queries.ts';

export interface EventsApiOptions {
  /** The database, once setup opened it. */
  readonly db: () => Database;
  /** Resolves once Kafka acknowledged every event. */
  readonly publish: (events: readonly Event[]) => Promise<void>;
  /** Records in the dead-letter topic. */
  readonly deadLetters: () => Promise<number>;
  /** When set, every /events route wants `Authorization: Bearer <token>`. */
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
const defaultLimit = 100;
const maxLimit = 1000;

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

    const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
      if (options.token === undefined || bearerMatches(request.headers.authorization, options.token)) return;
      await reply.code(401).send({ error: 'unauthorized', message: 'expected Authorization: Bearer <STREAMRUN_API_TOKEN>' });
    };

    server.post<{ Querystring: { eventType?: string; eventData?: string }; Body: unknown }>(
      '/events',
      {
        onRequest: authorize,
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
        try {
          if (eventType !== undefined) {
            await options.publish([validateEvent({ type: eventType, payload: eventData ?? null }, defaults, '')]);
            return reply.code(200).type('text/plain; charset=utf-8').send('Event published!');
          }
          const body = request.body;
          if (body === undefined || body === null) throw new ValidationError('body', 'expected a JSON event or an array of events, or ?eventType=');
          const inputs = Array.isArray(body) ? body : [body];
          if (inputs.length === 0) throw new ValidationError('body', 'the array is empty');
          if (inputs.length > maxBatch) throw new ValidationError('body', `at most ${maxBatch} events per request, got ${inputs.length}`);
          const events = inputs.map((input, i) => validateEvent(input, defaults, Array.isArray(body) ? `[${i}]` : ''));
          await options.publish(events);
          return reply.code(202).send({ ids: events.map((e) => e.id) });
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          return reply.code(400).send({ error: 'bad_request', message: error.message, field: error.field });
        }
      },
    );

    server.get<{ Querystring: { type?: string; source?: string; from?: string; to?: string; cursor?: string; limit: number } }>(
      '/events',
      {
        onRequest: authorize,
        schema: {
          summary: 'Stored events, newest first, a page at a time: pass `next` back as `cursor`',
          querystring: {
            type: 'object',
            properties: {
              type: { type: 'string' },
              source: { type: 'string' },
              from: { type: 'string', description: 'event time, inclusive: ISO-8601 or ms' },
              to: { type: 'string', description: 'event time, exclusive: ISO-8601 or ms' },
              cursor: { type: 'string' },
              limit: { type: 'integer', minimum: 1, maximum: maxLimit, default: defaultLimit },
            },
          },
        },
      },
      async (request, reply) => {
        const q = request.query;
        try {
          const page = await listEvents(options.db(), {
            limit: q.limit,
            ...(q.type === undefined ? {} : { type: q.type }),
            ...(q.source === undefined ? {} : { source: q.source }),
            ...(q.from === undefined ? {} : { from: time('from', q.from) }),
            ...(q.to === undefined ? {} : { to: time('to', q.to) }),
            ...(q.cursor === undefined ? {} : { after: decodeCursor(q.cursor) }),
          });
          return { events: page.events, next: page.next === null ? null : encodeCursor(page.next) };
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          return reply.code(400).send({ error: 'bad_request', message: error.message, field: error.field });
        }
      },
    );

    const stats = async () => ({
      totals: await typeStats(options.db()),
      windows: await latestWindows(options.db(), 50),
      deadLetters: await options.deadLetters(),
      generatedAt: new Date().toISOString(),
    });
    const statsSchema = { summary: 'Totals per type, the rate over the last minute, the newest 1-minute windows and the dead-letter count' };
    server.get('/events/stats', { onRequest: authorize, schema: statsSchema }, stats);
    server.get('/events/all', { onRequest: authorize, schema: { ...statsSchema, description: 'the same as /events/stats, at the original demo\'s path' } }, stats);

    server.get<{ Params: { id: string } }>(
      '/events/:id',
      { onRequest: authorize, schema: { summary: 'One stored event', params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } },
      async (request, reply) => {
        const { id } = request.params;
        let event = cache.get(id) ?? null;
        if (event === null) {
          event = await getEvent(options.db(), id);
          if (event !== null) cache.set(id, event);
        }
        if (event === null) return reply.code(404).send({ error: 'not_found', message: `no event with id "${request.params.id}"` });
        return event;
      },
    );
  };
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function time(field: string, text: string): Date {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new ValidationError(field, 'expected an ISO-8601 date or ms since the epoch');
  return new Date(ms);
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.ts, cursor.id])).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const [ts, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof ts === 'string' && typeof id === 'string' && Number.isFinite(Date.parse(ts))) return { ts, id };
  } catch {
    // reported below
  }
  throw new ValidationError('cursor', 'not a cursor this API gave out');
}
