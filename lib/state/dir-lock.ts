import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamrunError } from '../errors/streamrun-error.ts';


const lockFileName = 'streamrun.lock';
/** Data dirs this process holds: a lock file naming our own pid may be left by an earlier run. */
const heldHere = new Set<string>();

/**
 * Claims a directory for this process: the first one to start writes its pid into a lock file,
 * and another finds it there while that process lives. PGlite opens a directory another
 * instance is using without complaint (two backends writing the same files corrupt it), and two
 * runners sharing a state dir would share a transactional id and fence each other. `what` names
 * the directory in the error.
 */
export async function lockDirectory(dataDir: string, what: string): Promise<() => Promise<void>> {
  const path = join(dataDir, lockFileName);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      heldHere.add(dataDir);
      return async () => {
        heldHere.delete(dataDir);
        await rm(path, { force: true });
      };
    } catch (error) {
      if (!hasCode(error, 'EEXIST')) throw error;
    }
    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    const inUse = owner === process.pid ? heldHere.has(dataDir) : Number.isInteger(owner) && owner > 0 && isRunning(owner);
    if (inUse) {
      throw new StreamrunError(
        'INVALID_OPTIONS',
        `${what}: ${dataDir} is in use by process ${owner} (remove ${path} if that process is not streamrun)`,
      );
    }
    // The owner ended without closing (crash, kill -9): what it left is recovered on open.
    await rm(path, { force: true });
  }
  throw new StreamrunError('INVALID_OPTIONS', `${what}: cannot take the lock ${path}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return hasCode(error, 'EPERM');
  }
}

function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
