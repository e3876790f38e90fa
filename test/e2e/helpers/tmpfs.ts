import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Cleanup } from './cleanup.ts';

const run = promisify(execFile);

/**
 * A tmpfs of `size` (e.g. '1m') mounted on a fresh directory, unmounted after the test: a state
 * dir that fills up, or with `readOnly` one that takes no file even from root.
 */
export async function tmpfs(cleanup: Cleanup, { size, readOnly = false }: { size: string; readOnly?: boolean }): Promise<string> {
  const dir = await cleanup.tempDir('streamrun-tmpfs-');
  await run('mount', ['-t', 'tmpfs', '-o', `${readOnly ? 'ro,' : ''}size=${size}`, 'tmpfs', dir]);
  // Lazy: a runner that failed to stop may still hold files in it.
  cleanup.defer(() => run('umount', ['--lazy', dir]));
  return dir;
}
