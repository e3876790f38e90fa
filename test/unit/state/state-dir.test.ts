import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkStateDir, stateDirError } from '../../../lib/state/state-dir.ts';

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

  it('says a full disk is full', () => {
    const error = Object.assign(new Error("ENOSPC: no space left on device, open '/s/x.tmp'"), { code: 'ENOSPC' });
    expect(stateDirError('/s', error).message).toBe("no space left for state in /s: ENOSPC: no space left on device, open '/s/x.tmp'");
    expect(stateDirError('/s', new Error('IO error: /s/000005.log: No space left on device')).message).toBe(
      'no space left for state in /s: IO error: /s/000005.log: No space left on device',
    );
  });
});
