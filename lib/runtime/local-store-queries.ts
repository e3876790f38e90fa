import { StreamrunError } from '../errors/streamrun-error.ts';
import type { StoreQueries } from '../server/store-queries.ts';
import type { StateStores } from '../state/state-stores.ts';
import type { StoreSpec } from '../state/task-stores.ts';
import type { Timestamped, WindowKey } from '../state/window-store.ts';

/**
 * Answers store queries from the tasks this instance runs now: a key lives in one task's store,
 * so a lookup asks each; a range merges them. Window stores are ranged by window start time.
 */
export function localStoreQueries(specs: ReadonlyMap<string, StoreSpec>, tasks: () => Iterable<StateStores>): StoreQueries {
  const spec = (store: string): StoreSpec => {
    const found = specs.get(store);
    if (found === undefined) throw new StreamrunError('INVALID_OPTIONS', `no store named ${store}`);
    return found;
  };
  const holding = (store: string) => [...tasks()].filter((t) => t.names().includes(store));

  return {
    stores: () => [...specs.keys()],

    async get(store, keyText) {
      if (spec(store).windowed === true) {
        throw new StreamrunError('INVALID_OPTIONS', `${store} is a window store: ask for a time range, /stores/${store}?from=<ms>&to=<ms>`);
      }
      const key = readKey(spec(store), keyText);
      for (const task of holding(store)) {
        const value = task.get(store).get(key);
        if (value !== undefined) return storedValue(spec(store), value);
      }
      return undefined;
    },

    async range(store, query) {
      const found = spec(store);
      const entries: { key: unknown; value: unknown; order: Buffer }[] = [];
      if (found.windowed === true) {
        const from = readTime('from', query.from) ?? Number.NEGATIVE_INFINITY;
        const to = readTime('to', query.to) ?? Number.POSITIVE_INFINITY;
        for (const task of holding(store)) {
          for await (const entry of task.get(store).range()) {
            const window = entry.key as WindowKey;
            if (window.start >= from && window.start <= to) {
              entries.push({ key: window, value: storedValue(found, entry.value), order: entryOrder(found, window) });
            }
          }
        }
      } else {
        const range = {
          ...(query.from === undefined ? {} : { from: readKey(found, query.from) }),
          ...(query.to === undefined ? {} : { to: readKey(found, query.to) }),
          limit: query.limit,
        };
        for (const task of holding(store)) {
          for await (const entry of task.get(store).range(range)) {
            entries.push({ key: entry.key, value: storedValue(found, entry.value), order: entryOrder(found, entry.key) });
          }
        }
      }
      return entries
        .sort((a, b) => Buffer.compare(a.order, b.order))
        .slice(0, query.limit)
        .map(({ key, value }) => ({ key, value }));
    },
  };
}

/** What a query answers for a stored value: an aggregate without the time kept beside it. */
export function storedValue(spec: StoreSpec, stored: unknown): unknown {
  return spec.timestamped === true ? (stored as Timestamped).value : stored;
}

/** URL text is the key's serialized form for text serdes (string, JSON): read it with the store's key serde. */
export function readKey(spec: StoreSpec, text: string): unknown {
  try {
    return spec.serdes.key.deserialize(Buffer.from(text, 'utf8'));
  } catch (error) {
    throw new StreamrunError('INVALID_OPTIONS', `key "${text}" cannot be read by ${spec.store}'s key serde (${spec.serdes.key.name}): ${(error as Error).message}`);
  }
}

function readTime(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Number(text);
  if (!Number.isFinite(ms)) throw new StreamrunError('INVALID_OPTIONS', `${name}: expected a time in ms since the epoch, got "${text}"`);
  return ms;
}

/** Where an entry goes in a range's answer: key bytes, or for windows start, end, then key. */
export function entryOrder(spec: StoreSpec, key: unknown): Buffer {
  if (spec.windowed !== true) return spec.serdes.key.serialize(key);
  const window = key as WindowKey;
  const order = Buffer.alloc(16);
  order.writeBigInt64BE(BigInt(window.start), 0);
  order.writeBigInt64BE(BigInt(window.end), 8);
  return Buffer.concat([order, Buffer.from(JSON.stringify(window.key))]);
}
