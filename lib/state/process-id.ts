import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lockDirectory } from './dir-lock.ts';
import { writingState } from './state-dir.ts';

/** Who this runner is across restarts, and the claim on its state dir while it runs. */
export interface ProcessIdentity {
  /** Kept in `<stateDir>/<appId>/process-id`: the same after a crash, so the restart fences what the crash left open. */
  readonly id: string;
  release(): Promise<void>;
}

/**
 * Kafka Streams keeps a process id in its state dir for the same reason: a transactional id
 * that outlives a crash lets the restarted process abort its predecessor's open transaction at
 * once, instead of every reader waiting for the broker to time it out.
 */
export async function claimProcessIdentity(stateDir: string, appId: string): Promise<ProcessIdentity> {
  const directory = join(stateDir, appId);
  await writingState(stateDir, () => mkdir(directory, { recursive: true }));
  const release = await lockDirectory(directory, `state dir of ${appId}`);
  try {
    const path = join(directory, 'process-id');
    let id = (await readFile(path, 'utf8').catch(() => '')).trim();
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      id = randomUUID();
      await writingState(stateDir, async () => {
        await writeFile(`${path}.tmp`, `${id}\n`);
        await rename(`${path}.tmp`, path);
      });
    }
    return { id, release };
  } catch (error) {
    await release();
    throw error;
  }
}
