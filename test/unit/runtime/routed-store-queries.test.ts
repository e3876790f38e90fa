import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serdes } from '../../../lib/index.ts';
import type { MemberInfo } from '../../../lib/kafka/client.ts';
import { routedStoreQueries } from '../../../lib/runtime/routed-store-queries.ts';
import type { StoreQueries } from '../../../lib/server/store-queries.ts';
import type { StoreSpec } from '../../../lib/state/task-stores.ts';

const spec: StoreSpec = { store: 'counts', changelog: 'c', serdes: { key: serdes.string, value: serdes.json() } };
const local: StoreQueries = {
  stores: () => ['counts'],
  get: async (_, key) => (key === 'mine' ? 1 : undefined),
  range: async () => [{ key: 'b', value: 2 }],
};

describe('routedStoreQueries', () => {
  let peer: Server;
  let peerUrl: string;
  const heard: { url: string; forwarded: string | undefined; authorization: string | undefined }[] = [];
  beforeAll(async () => {
    peer = createServer((request, response) => {
      heard.push({ url: request.url!, forwarded: request.headers['streamrun-forwarded'] as string, authorization: request.headers.authorization });
      response.setHeader('content-type', 'application/json');
      if (request.url!.startsWith('/stores/counts?')) return response.end(JSON.stringify({ store: 'counts', entries: [{ key: 'a', value: 1 }, { key: 'c', value: 3 }] }));
      if (request.url === '/stores/counts/theirs') return response.end(JSON.stringify({ store: 'counts', key: 'theirs', value: 7 }));
      response.statusCode = 404;
      response.end('{}');
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    peerUrl = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => peer.close(() => resolve())));

  const routed = (members: MemberInfo[]) =>
    routedStoreQueries(local, {
      specs: new Map([['counts', spec]]),
      self: () => 'http://me',
      members: () => members,
      taskOf: (_, key) => ({ mine: '0_0', theirs: '0_1', gone: '0_1', orphan: '0_9' })[key],
      timeoutMs: 2_000,
    });

  it('asks the owner of a key’s task, passing the Authorization on; a range merges every instance’s entries in key order', async () => {
    const queries = routed([{ endpoint: 'http://me', tasks: ['0_0'] }, { endpoint: peerUrl, tasks: ['0_1'] }]);
    expect(await queries.get('counts', 'mine')).toBe(1);
    expect(await queries.get('counts', 'theirs', { forwarded: false, authorization: 'Bearer x' })).toBe(7);
    expect(heard.at(-1)).toEqual({ url: '/stores/counts/theirs', forwarded: '1', authorization: 'Bearer x' });
    expect(await queries.get('counts', 'gone')).toBeUndefined();
    expect(await queries.range('counts', { limit: 2 })).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    expect(heard.at(-1)!.url).toBe('/stores/counts?limit=2');
    // Forwarded: this instance's own answer only.
    expect(await queries.get('counts', 'theirs', { forwarded: true })).toBeUndefined();
    expect(queries.instances!()).toEqual([
      { endpoint: 'http://me', tasks: ['0_0'], self: true },
      { endpoint: peerUrl, tasks: ['0_1'], self: false },
    ]);
  });

  it('is UNAVAILABLE when the owner cannot be asked, nobody owns the task yet, or the owner serves no HTTP', async () => {
    const down = routed([{ endpoint: 'http://127.0.0.1:1', tasks: ['0_1'] }]);
    await expect(down.get('counts', 'theirs')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('http://127.0.0.1:1 did not answer') });
    await expect(down.range('counts', { limit: 10 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(down.get('counts', 'orphan')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'task 0_9, which holds the key, has no owner yet: the group is rebalancing' });
    await expect(routed([{ tasks: ['0_1'] }]).get('counts', 'theirs')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
