import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { brokers, createTopic, uniqueName, withAdmin } from './kafka.ts';

/** The committed offset of each partition of `topic` for `groupId`; -1 where it never committed. */
export async function committedOffsets(groupId: string, topic: string): Promise<number[]> {
  return withAdmin(async (admin) => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  });
}

/** The consumer group's state as the broker sees it (`Empty` once every member left). */
export async function groupState(groupId: string): Promise<string> {
  return withAdmin(async (admin) => (await admin.describeGroups([groupId])).groups[0]!.state);
}

/** State dirs made through the returned function are removed after the file's tests, passed or not. */
export function useStateDirs(): () => Promise<string> {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'streamrun-claims-'));
    dirs.push(dir);
    return dir;
  };
}

/** Topics and environment for test/e2e/fixtures/claims/configurable.ts. */
/** `partitions` 0: the input topic is left for the runner to create. */
export async function configurableApp(partitions = 1) {
  const appId = uniqueName('cfg');
  const input = uniqueName('cfg-in');
  const output = uniqueName('cfg-out');
  if (partitions > 0) await createTopic(input, partitions);
  return {
    appId,
    input,
    output,
    env: { APP_ID: appId, INPUT_TOPIC: input, OUTPUT_TOPIC: output },
    args: ['start', 'test/e2e/fixtures/claims/configurable.ts', '--brokers', brokers()],
  };
}
