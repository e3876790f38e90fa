import { readFile, rename, writeFile } from 'node:fs/promises';

/**
 * A checkpoint says up to which changelog offset a store's files already hold the changelog,
 * so a restart restores only the tail. It is written after the store's writes reach disk and
 * never claims more; a stale one only costs a longer (idempotent) replay.
 */
export async function readCheckpoint(path: string): Promise<string | undefined> {
  try {
    const { offset } = JSON.parse(await readFile(path, 'utf8')) as { offset?: unknown };
    return typeof offset === 'string' && /^\d+$/.test(offset) ? offset : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a temporary file and renamed, so a crash leaves the old checkpoint or the new one. */
export async function writeCheckpoint(path: string, offset: string): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, JSON.stringify({ offset }));
  await rename(temporary, path);
}
