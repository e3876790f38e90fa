import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCheckpoint, writeCheckpoint } from '../../../lib/state/checkpoint.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streamrun-checkpoint-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readCheckpoint', () => {
  it('reads the offset a checkpoint file holds', async () => {
    const path = join(dir, 'store.checkpoint');
    await writeFile(path, JSON.stringify({ offset: '1234' }));
    expect(await readCheckpoint(path)).toBe('1234');
  });

  it('has no checkpoint for a missing file or a file that is not JSON', async () => {
    expect(await readCheckpoint(join(dir, 'missing.checkpoint'))).toBeUndefined();
    const path = join(dir, 'broken.checkpoint');
    await writeFile(path, '{"offset": "12"');
    expect(await readCheckpoint(path)).toBeUndefined();
  });

  it.each([
    ['a number, not a decimal string', { offset: 12 }],
    ['no offset', {}],
    ['an empty string', { offset: '' }],
    ['trailing garbage', { offset: '12a' }],
    ['leading garbage', { offset: 'a12' }],
    ['a negative offset', { offset: '-5' }],
    ['letters only', { offset: 'abc' }],
  ])('ignores a checkpoint with %s', async (_, content) => {
    const path = join(dir, 'store.checkpoint');
    await writeFile(path, JSON.stringify(content));
    expect(await readCheckpoint(path)).toBeUndefined();
  });

  it('accepts offset 0 and offsets with many digits, beyond 2^53', async () => {
    const path = join(dir, 'store.checkpoint');
    await writeFile(path, JSON.stringify({ offset: '0' }));
    expect(await readCheckpoint(path)).toBe('0');
    await writeFile(path, JSON.stringify({ offset: '9007199254740993' }));
    expect(await readCheckpoint(path)).toBe('9007199254740993');
  });
});

describe('writeCheckpoint', () => {
  it('writes { offset } as JSON under the path and leaves no temporary file behind', async () => {
    const path = join(dir, 'store.checkpoint');
    await writeCheckpoint(path, '42');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ offset: '42' });
    expect(await readdir(dir)).toEqual(['store.checkpoint']);
    expect(await readCheckpoint(path)).toBe('42');
  });

  it('replaces the previous checkpoint', async () => {
    const path = join(dir, 'store.checkpoint');
    await writeCheckpoint(path, '1');
    await writeCheckpoint(path, '20');
    expect(await readCheckpoint(path)).toBe('20');
    expect(await readdir(dir)).toEqual(['store.checkpoint']);
  });
});
