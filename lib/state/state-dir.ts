import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamrunError } from '../errors/streamrun-error.ts';

/**
 * What the file system answers when it cannot take a write (Node's codes, and LevelDB's for any
 * I/O error); not a LevelDB lock another task still holds, which passes once that task closes.
 */
const diskFaults = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'ENOENT', 'EIO', 'LEVEL_IO_ERROR']);

/**
 * Fails at start, naming the directory, when the state directory cannot take a file: otherwise
 * the first task would find out only when its stores open, and retry that with every batch.
 */
export async function checkStateDir(directory: string): Promise<void> {
  const probe = join(directory, `.probe-${process.pid}`);
  try {
    await mkdir(directory, { recursive: true });
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    throw stateDirError(directory, diskFault(error) ?? error);
  }
}

/**
 * Runs a write of local state. When the file system refuses it (no space left, read-only,
 * removed), it rejects with STATE_DIR naming `directory`: the runner cannot keep state, so it
 * stops rather than retry the same write with every batch. Other errors pass as they are.
 */
export async function writingState<T>(directory: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const fault = diskFault(error);
    throw fault === undefined ? error : stateDirError(directory, fault);
  }
}

export function isStateDirError(error: unknown): error is StreamrunError {
  return error instanceof StreamrunError && error.code === 'STATE_DIR';
}

function stateDirError(directory: string, error: unknown): StreamrunError {
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  const full = /ENOSPC|EDQUOT|no space left|quota/i.test(reason ?? '');
  const what = full ? `no space left for state in ${directory}` : `state directory ${directory} is not writable`;
  return new StreamrunError('STATE_DIR', `${what}: ${reason}`, { cause: error });
}

/** The error in `error`'s cause chain (LevelDB wraps an open's failure) that is a disk fault, if any. */
function diskFault(error: unknown): Error | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && diskFaults.has(code)) return e;
  }
  return undefined;
}
