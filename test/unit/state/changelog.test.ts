import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../../../lib/graph/nodes.ts';
import { serdes } from '../../../lib/index.ts';
import { OutputBuffer } from '../../../lib/runtime/output-buffer.ts';
import { changelogConfig, changelogTopic, stageChanges, storeSpecs } from '../../../lib/state/changelog.ts';
import { windowKeySerde } from '../../../lib/state/window-store.ts';

const kv = { key: serdes.string, value: serdes.json() };
const node = (n: Record<string, unknown>) => n as unknown as GraphNode;

describe('changelog topics', () => {
  it('are named <appId>-<store>-changelog and compacted', () => {
    expect(changelogTopic('app', 'counts')).toBe('app-counts-changelog');
    expect(changelogConfig).toEqual({ 'cleanup.policy': 'compact' });
    expect(Object.isFrozen(changelogConfig)).toBe(true);
  });
});

describe('storeSpecs', () => {
  it('keeps no store for stateless nodes', () => {
    expect(
      storeSpecs('app', [
        node({ kind: 'source', name: 'source-0', parents: [], topic: 'in', serdes: kv }),
        node({ kind: 'mapValues', name: 'mapValues-1', parents: ['source-0'] }),
        node({ kind: 'sink', name: 'sink-2', parents: ['mapValues-1'], topic: 'out', serdes: kv }),
      ]),
    ).toEqual([]);
  });

  it('an aggregate keeps its store with its own changelog; a table from a topic uses the topic', () => {
    const specs = storeSpecs('app', [
      node({ kind: 'aggregate', name: 'counts', parents: [], store: 'counts', serdes: kv }),
      node({ kind: 'materialize', name: 'users', parents: [], store: 'users', topic: 'users-topic', serdes: kv }),
    ]);
    expect(specs).toEqual([
      { store: 'counts', changelog: 'app-counts-changelog', serdes: { key: kv.key, value: expect.objectContaining({ name: 'timestamped(json)' }) }, timestamped: true },
      { store: 'users', changelog: 'users-topic', serdes: kv, sourceTopic: true },
    ]);
  });

  it('a window store keys by window and closes after the grace; a session store after gap + grace', () => {
    const [windowed, sessions] = storeSpecs('app', [
      node({ kind: 'windowedAggregate', name: 'w', parents: [], store: 'w', windows: { size: 10, advance: 10, grace: 3 }, serdes: kv }),
      node({ kind: 'sessionAggregate', name: 's', parents: [], store: 's', gap: 7, grace: 2, serdes: kv }),
    ]);
    expect(windowed!.changelog).toBe('app-w-changelog');
    expect(windowed!.window).toEqual({ grace: 3, key: serdes.string });
    // The value is [newest record's timestamp][aggregate], as Kafka Streams' timestamped stores keep it.
    expect(windowed!.serdes.value.name).toBe('timestamped(json)');
    expect(windowed!.serdes.value.deserialize(windowed!.serdes.value.serialize({ value: { n: 1 }, timestamp: 42 }))).toEqual({ value: { n: 1 }, timestamp: 42 });
    expect(windowed!.serdes.key.name).toBe(windowKeySerde(serdes.string).name);
    const window = { key: 'k', start: 10, end: 20 };
    expect(windowed!.serdes.key.serialize(window)).toEqual(windowKeySerde(serdes.string).serialize(window));
    expect(sessions!.changelog).toBe('app-s-changelog');
    expect(sessions!.window).toEqual({ grace: 9, key: serdes.string });
  });
});

describe('stageChanges', () => {
  it('puts each change into the changelog lane, bound for the task partition, and counts them', () => {
    const outputs = new OutputBuffer();
    outputs.size = 5;
    const changes = [
      { key: Buffer.from('a'), value: Buffer.from('1') },
      { key: Buffer.from('b'), value: null },
    ];
    expect(stageChanges(outputs, 'app-s-changelog', 3, changes)).toBe(2);
    expect(outputs.size).toBe(7);
    expect(outputs.lanes.get('app-s-changelog')).toEqual([
      { partition: 3, key: Buffer.from('a'), value: Buffer.from('1') },
      { partition: 3, key: Buffer.from('b'), value: null },
    ]);
  });

  it('stages nothing, and opens no lane, without changes', () => {
    const outputs = new OutputBuffer();
    expect(stageChanges(outputs, 'app-s-changelog', 0, [])).toBe(0);
    expect(outputs.size).toBe(0);
    expect(outputs.lanes.size).toBe(0);
  });
});
