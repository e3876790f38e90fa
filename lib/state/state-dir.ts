import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamrunError } from '../errors/streamrun-error.ts';

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
    throw stateDirError(directory, error);
  }
}

/**
 * A store's files or checkpoint could not be written (no space left, read-only, removed): the
 * runner cannot keep state, so it stops rather than retry the same write with every batch.
 */
export function stateDirError(directory: string, error: unknown): StreamrunError {
  if (isStateDirError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const full = /ENOSPC|no space left/i.test(reason);
  const what = full ? `no space left for state in ${directory}` : `state directory ${directory} is not writable`;
  return new StreamrunError('STATE_DIR', `${what}: ${reason.split('\n')[0]}`, { cause: error });
}

export function isStateDirError(error: unknown): error is StreamrunError {
  return error instanceof StreamrunError && error.code === 'STATE_DIR';
}

/** Runs a write of local state; its failure becomes a STATE_DIR error naming `directory`. */
export async function writingState<T>(directory: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw stateDirError(directory, error);
  }
}
