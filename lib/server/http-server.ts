import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fastify, type FastifyInstance, type FastifyReply, type FastifyRequest, type HTTPMethods } from 'fastify';
import { StreamrunError } from '../errors/streamrun-error.ts';
import type { Logger } from '../runtime/logger.ts';
import { FORWARDED_HEADER, type HealthReport, type QueryOrigin, type StoreQueries } from './store-queries.ts';
import type { HttpRoutes } from '../runtime/setup.ts';
import type { Metrics } from '../metrics/instruments.ts';
import { messageOf } from '../errors/message-of.ts';

// ---------------------------------------------------------------------------------------------
// Options

export interface HttpServerOptions {
  /** TCP port to listen on; 0 takes any free port (read it back from `HttpServer.port`). */
  port: number;
  /**
   * Interface to bind. Default '127.0.0.1': the server hands out store contents with no
   * authentication, so it stays on this machine unless asked. Pass '0.0.0.0' (or '::') when
   * something else must reach it, e.g. a health probe from outside a container.
   */
  host?: string;
  queries: StoreQueries;
  health: () => HealthReport | Promise<HealthReport>;
  logger: Logger;
  /** More routes (a topology's API); they share the error handling. */
  routes?: readonly HttpRoutes[];
  /** Largest request body accepted; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
  /** Served at `GET /metrics`; every answered request is counted in it. */
  metrics?: Metrics;
}

export interface HttpServer {
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** Where to reach the server from this machine, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops listening, lets requests in flight finish, and resolves once the port is free. */
  close(): Promise<void>;
}

export const defaultHost = '127.0.0.1';
/** What a 503 asks a client to wait: about as long as a broker's leader election or restart takes. */
export const retryAfterSeconds = 5;
export const defaultRangeLimit = 100;
export const maxRangeLimit = 1000;

function checkOptions(options: HttpServerOptions): { port: number; host: string } {
  const { port, host = defaultHost } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new StreamrunError('INVALID_OPTIONS', `http port: expected an integer from 0 to 65535, got ${port}`);
  }
  if (host.trim() === '') throw new StreamrunError('INVALID_OPTIONS', 'http host: must not be empty');
  return { port, host };
}

// ---------------------------------------------------------------------------------------------
// Server

/**
 * Starts the runner's HTTP server: health and read-only queries of this instance's stores.
 *
 * @example
 * const server = await startHttpServer({ port: 8080, queries, health, logger });
 * // curl http://127.0.0.1:8080/stores/word-counts/hello
 * await server.close();
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { port, host } = checkOptions(options);
  const app = buildApp(options);
  try {
    for (const routes of options.routes ?? []) await routes(app);
    await app.listen({ port, host });
  } catch (error) {
    await app.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new StreamrunError('INVALID_OPTIONS', `http server: cannot listen on ${host}:${port}: ${reason}`, {
      cause: error,
    });
  }
  const bound = (app.server.address() as AddressInfo).port;
  const url = urlFor(host, bound);
  options.logger.info('http server listening', { url });
  return {
    port: bound,
    url,
    close: async () => {
      await app.close();
    },
  };
}

type ErrorBody = { error: string; message: string };

/** The `error` field of a 4xx body, by status: machine-readable, the message is for people. */
const clientErrors: Readonly<Record<number, string>> = {
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** Methods a 405 may list in `Allow`; HEAD comes with every GET route. */
const methods: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const storeParams = {
  type: 'object',
  required: ['store'],
  properties: { store: { type: 'string', minLength: 1 } },
} as const;

const keyParams = {
  type: 'object',
  required: ['store', 'key'],
  properties: { store: { type: 'string', minLength: 1 }, key: { type: 'string', minLength: 1 } },
} as const;

const rangeQuery = {
  type: 'object',
  properties: {
    from: { type: 'string' },
    to: { type: 'string' },
    limit: { type: 'integer', minimum: 1, maximum: maxRangeLimit, default: defaultRangeLimit },
  },
} as const;

function buildApp({ queries, health, logger, bodyLimit = 1024 * 1024, metrics }: HttpServerOptions): FastifyInstance {
  const app = fastify({
    bodyLimit,
    // Requests are logged through our Logger below; fastify's pino would be a second format.
    logger: false,
    // Unique across restarts and instances, so a request id in a 500 finds its log line.
    genReqId: () => randomUUID(),
    // Keys are path segments; find-my-way's default cap of 100 characters would 404 long ones.
    routerOptions: { maxParamLength: 4096 },
    // A malformed URL or an over-long key fails in the router, before the error handler.
    // (The hook is typed generic over route types this server never uses, hence the widening.)
    frameworkErrors: (error, _request, reply) => {
      (reply as FastifyReply).code(error.statusCode ?? 400).send(clientError(error.statusCode ?? 400, error.message));
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, not its URL: one series per route, whatever the keys asked for.
    metrics?.http.observe(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
    logger.debug('http request', {
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    });
  });

  if (metrics !== undefined) {
    app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));
  }

  app.get('/health', async (_request, reply) => {
    const report = await health();
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });

  // Store values may be bytes or bigints: their routes serialize through a replacer, which
  // costs every other route (a topology's API) a slower JSON.stringify, so it stays in here.
  app.register(async (stores) => {
    stores.setReplySerializer((payload) => JSON.stringify(payload, jsonReplacer));

    stores.get('/stores', async () => ({ stores: queries.stores(), ...(queries.instances ? { instances: queries.instances() } : {}) }));

    stores.get<{ Params: { store: string; key: string } }>(
      '/stores/:store/:key',
      { schema: { params: keyParams } },
      async (request, reply) => {
        const { store, key } = request.params;
        const missing = unknownStore(queries, store);
        if (missing !== undefined) return reply.code(404).send(missing);
        const origin = originOf(request);
        const value = await queries.get(store, key, origin);
        if (value === undefined) {
          const where = origin.forwarded || queries.instances === undefined ? 'on this instance' : 'in this application';
          return reply.code(404).send(notFound(`No value for key "${key}" in store "${store}" ${where}`));
        }
        return { store, key, value };
      },
    );

    stores.get<{ Params: { store: string }; Querystring: { from?: string; to?: string; limit: number } }>(
      '/stores/:store',
      { schema: { params: storeParams, querystring: rangeQuery } },
      async (request, reply) => {
        const { store } = request.params;
        const missing = unknownStore(queries, store);
        if (missing !== undefined) return reply.code(404).send(missing);
        const { from, to, limit } = request.query;
        const query: { from?: string; to?: string; limit: number } = { limit };
        if (from !== undefined) query.from = from;
        if (to !== undefined) query.to = to;
        return { store, entries: await queries.range(store, query, originOf(request)) };
      },
    );
  });

  const noRoute = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0]!;
    const allowed = methods.filter((method) => app.findRoute({ method, url: path }) !== null);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send(clientError(405, `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`));
    }
    return reply.code(404).send(notFound(`No route for ${request.method} ${request.url}`));
  };
  app.setNotFoundHandler(noRoute);

  app.setErrorHandler(async (error: unknown, request, reply) => {
    // fastify parses the body before it finds there is no route (a DELETE saying
    // content-type: application/json, but empty): no route is the answer, not the body.
    if (request.is404) return noRoute(request, reply);
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== undefined) {
      // What answers the request is away, not the request at fault: the client may send it again, a little later.
      logger.warn('http request: unavailable', { requestId: request.id, method: request.method, url: request.url, error: messageOf(error) });
      return reply.code(503).header('retry-after', String(retryAfter)).send({ error: 'unavailable', message: messageOf(error) });
    }
    const status = clientErrorStatus(error);
    if (status !== undefined) return reply.code(status).send({ ...clientError(status, messageOf(error)), ...invalidField(error) });
    logger.error('http request failed', { requestId: request.id, method: request.method, url: request.url, error });
    // The error's own text (a database's, say) may tell a client about the internals: it goes to
    // the Logger only, and the request id leads from the answer to it.
    return reply.code(500).send({
      error: 'internal',
      message: `internal error; the server log has it under request id ${request.id}`,
      requestId: request.id,
    });
  });

  return app;
}

/**
 * Seconds to wait before asking again, for what is briefly away: Kafka at ingest, or the
 * instance that holds a queried key (a rebalance, a crash).
 */
function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof StreamrunError)) return undefined;
  if (error.code === 'BROKER_UNREACHABLE') return retryAfterSeconds;
  return error.code === 'UNAVAILABLE' ? 1 : undefined;
}

function originOf(request: FastifyRequest): QueryOrigin {
  return { forwarded: request.headers[FORWARDED_HEADER] === '1', authorization: request.headers.authorization };
}

/**
 * The 4xx status for an error the client caused, else undefined. Covers fastify's schema
 * validation, its other 4xx (a malformed URL, say), and a key text the store's serde cannot
 * read, which the queries report as INVALID_OPTIONS.
 */
function clientErrorStatus(error: unknown): number | undefined {
  if (error instanceof StreamrunError) return error.code === 'INVALID_OPTIONS' ? 400 : undefined;
  if (typeof error !== 'object' || error === null) return undefined;
  if ('validation' in error && error.validation !== undefined) return 400;
  const status = 'statusCode' in error ? error.statusCode : undefined;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/**
 * The parameter a schema validation error is about (`limit`, `key`), as `{ field }`, so a
 * topology's own 400s and fastify's name it the same way.
 */
function invalidField(error: unknown): { field?: string } {
  const first = typeof error === 'object' && error !== null && 'validation' in error && Array.isArray(error.validation) ? (error.validation[0] as unknown) : undefined;
  if (typeof first !== 'object' || first === null) return {};
  const { instancePath, params } = first as { instancePath?: unknown; params?: { missingProperty?: unknown } };
  const missing = params?.missingProperty;
  const field = typeof missing === 'string' ? missing : typeof instancePath === 'string' ? instancePath.slice(1).replaceAll('/', '.') : '';
  return field === '' ? {} : { field };
}

function unknownStore(queries: StoreQueries, store: string): ErrorBody | undefined {
  const known = queries.stores();
  if (known.includes(store)) return undefined;
  const list = known.length === 0 ? 'none' : known.map((name) => `"${name}"`).join(', ');
  return notFound(`No store "${store}" on this instance; known stores: ${list}`);
}

function notFound(message: string): ErrorBody {
  return { error: 'not_found', message };
}

function clientError(status: number, message: string): ErrorBody {
  return { error: clientErrors[status] ?? 'bad_request', message };
}


/**
 * Store values are whatever the serdes produced: bytes come out as base64 rather than as
 * Buffer's `{ type, data: [...] }`, and a bigint as its decimal text rather than a 500.
 * Reads the holder because Buffer's own toJSON has already run by the time `value` arrives.
 */
function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A wildcard bind is reached through loopback from this machine; IPv6 needs brackets. */
function urlFor(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
