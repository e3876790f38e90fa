import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkStateDir, writingState } from '../../../lib/state/state-dir.ts';

describe('the state directory', () => {
  let scratch: string | undefined;
  afterEach(() => (scratch === undefined ? undefined : rm(scratch, { recursive: true, force: true })));

  it('is created when missing, and the probe leaves nothing behind', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'state-dir-'));
    await checkStateDir(join(scratch, 'a', 'b'));
    expect(await readdir(join(scratch, 'a', 'b'))).toEqual([]);
  });

  it('that cannot be created (its parent is a file) fails with STATE_DIR naming it', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'state-dir-'));
    await writeFile(join(scratch, 'file'), '');
    const dir = join(scratch, 'file', 'state');
    await expect(checkStateDir(dir)).rejects.toMatchObject({
      code: 'STATE_DIR',
      message: expect.stringMatching(new RegExp(`^state directory ${dir} is not writable: ENOTDIR`)),
    });
  });

  const failing = (error: Error) => writingState('/s', () => Promise.reject(error));
  const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

  it('a write the disk refuses for space fails with STATE_DIR saying so', async () => {
    await expect(failing(coded("ENOSPC: no space left on device, open '/s/x.tmp'", 'ENOSPC'))).rejects.toMatchObject({
      code: 'STATE_DIR',
      message: "no space left for state in /s: ENOSPC: no space left on device, open '/s/x.tmp'",
    });
    await expect(failing(coded('IO error: /s/000005.log: No space left on device', 'LEVEL_IO_ERROR'))).rejects.toMatchObject({
      code: 'STATE_DIR',
      message: 'no space left for state in /s: IO error: /s/000005.log: No space left on device',
    });
  });

  it("names LevelDB's own reason when it wraps an open's failure", async () => {
    const open = new Error('Database failed to open', { cause: coded('IO error: /s/c/LOCK: Read-only file system', 'LEVEL_IO_ERROR') });
    await expect(failing(open)).rejects.toMatchObject({
      code: 'STATE_DIR',
      message: 'state directory /s is not writable: IO error: /s/c/LOCK: Read-only file system',
    });
  });

  it('lets a lock another task still holds, or any other error, pass as it is', async () => {
    const locked = new Error('Database failed to open', { cause: coded('IO error: lock /s/c/LOCK: already held by process', 'LEVEL_LOCKED') });
    await expect(failing(locked)).rejects.toBe(locked);
    const other = new Error('no acknowledgement');
    await expect(failing(other)).rejects.toBe(other);
  });
});
