import { StreamrunError } from '../errors/streamrun-error.ts';
import { FORWARDED_HEADER, type InstanceView, type QueryOrigin, type StoreQueries } from '../server/store-queries.ts';
import type { StoreSpec } from '../state/task-stores.ts';
import type { MemberInfo } from '../kafka/client.ts';
import { entryOrder } from './local-store-queries.ts';

/** What routing needs to know of the group and of where a key lives. */
export interface QueryRouting {
  readonly specs: ReadonlyMap<string, StoreSpec>;
  /** This instance's endpoint as the others know it. */
  readonly self: () => string | undefined;
  /** The members as of the last rebalance. */
  readonly members: () => readonly MemberInfo[];
  /** The task whose store holds `keyText` in `store`; undefined when it cannot be told. */
  readonly taskOf: (store: string, keyText: string) => string | undefined;
  /** How long another instance may take to answer. */
  readonly timeoutMs: number;
}

/**
 * Store queries for the whole application, from any instance, as Kafka Streams' interactive
 * queries with `queryMetadataForKey` built in: a key is looked up where its task runs (here,
 * or on the instance that owns it, asked over HTTP), and a range merges every instance's part.
 * An instance that cannot be asked makes the answer a 503: half an answer would look whole.
 */
export function routedStoreQueries(local: StoreQueries, routing: QueryRouting): StoreQueries {
  const others = () => routing.members().filter((m) => m.endpoint !== routing.self());
  const ask = async (endpoint: string, path: string, origin: QueryOrigin | undefined): Promise<Response> => {
    const headers: Record<string, string> = { [FORWARDED_HEADER]: '1' };
    if (origin?.authorization !== undefined) headers['authorization'] = origin.authorization;
    try {
      return await fetch(`${endpoint}${path}`, { headers, signal: AbortSignal.timeout(routing.timeoutMs) });
    } catch (error) {
      throw new StreamrunError('UNAVAILABLE', `the instance at ${endpoint} did not answer: ${(error as Error).message}`);
    }
  };
  const unavailable = (endpoint: string, response: Response) =>
    new StreamrunError('UNAVAILABLE', `the instance at ${endpoint} answered ${response.status}`);

  return {
    stores: () => local.stores(),
    instances: (): InstanceView[] => routing.members().map((m) => ({ endpoint: m.endpoint, tasks: m.tasks, self: m.endpoint === routing.self() })),

    async get(store, key, origin) {
      if (origin?.forwarded === true) return local.get(store, key, origin);
      const task = routing.taskOf(store, key);
      if (task === undefined) return local.get(store, key, origin);
      const owner = routing.members().find((m) => m.tasks.includes(task));
      if (owner === undefined) throw new StreamrunError('UNAVAILABLE', `task ${task}, which holds the key, has no owner yet: the group is rebalancing`);
      if (owner.endpoint === routing.self()) return local.get(store, key, origin);
      if (owner.endpoint === undefined) throw new StreamrunError('UNAVAILABLE', `task ${task}, which holds the key, runs on an instance without an HTTP server`);
      const response = await ask(owner.endpoint, `/stores/${encodeURIComponent(store)}/${encodeURIComponent(key)}`, origin);
      if (response.status === 404) return undefined;
      // A client error here is the client's: this instance would have answered it the same way.
      if (response.status === 400) throw new StreamrunError('INVALID_OPTIONS', ((await response.json()) as { message: string }).message);
      if (response.status !== 200) throw unavailable(owner.endpoint, response);
      return ((await response.json()) as { value: unknown }).value;
    },

    async range(store, query, origin) {
      const mine = await local.range(store, query, origin);
      if (origin?.forwarded === true) return mine;
      const search = new URLSearchParams({ limit: String(query.limit) });
      if (query.from !== undefined) search.set('from', query.from);
      if (query.to !== undefined) search.set('to', query.to);
      const parts = await Promise.all(
        others().map(async (member) => {
          if (member.endpoint === undefined) {
            throw new StreamrunError('UNAVAILABLE', `tasks ${member.tasks.join(', ')} run on an instance without an HTTP server`);
          }
          const response = await ask(member.endpoint, `/stores/${encodeURIComponent(store)}?${search}`, origin);
          if (response.status !== 200) throw unavailable(member.endpoint, response);
          return ((await response.json()) as { entries: { key: unknown; value: unknown }[] }).entries;
        }),
      );
      const spec = routing.specs.get(store)!;
      return [...mine, ...parts.flat()]
        .map((entry) => ({ entry, order: entryOrder(spec, entry.key) }))
        .sort((a, b) => Buffer.compare(a.order, b.order))
        .slice(0, query.limit)
        .map(({ entry }) => entry);
    },
  };
}
