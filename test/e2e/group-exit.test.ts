import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './helpers/cli.ts';
import { configurableApp, groupState, useStateDirs } from './helpers/claims.ts';
import { brokers, createTopic, produce, uniqueName, withAdmin } from './helpers/kafka.ts';

/** The members the broker still counts in the group. */
const members = (groupId: string) => withAdmin(async (admin) => (await admin.describeGroups([groupId])).groups[0]!.members.length);

describe('leaving the consumer group', () => {
  const stateDir = useStateDirs();
  const runs: CliRun[] = [];
  afterEach(() => {
    for (const run of runs.splice(0)) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });

  it('an error nothing caught: the runner leaves the group before the process exits 1, so nobody waits for its session to time out', async () => {
    const appId = uniqueName('crashing');
    const input = uniqueName('crashing-in');
    await createTopic(input, 1);
    const run = runCli(['start', 'test/e2e/fixtures/crashing.ts', '--brokers', brokers(), '--state-dir', await stateDir()], {
      APP_ID: appId,
      INPUT_TOPIC: input,
    });
    runs.push(run);
    await run.waitForOutput(/ running \{/, 90_000);
    expect(await members(appId)).toBe(1);
    await produce(input, [{ key: 'k', value: 'first' }]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('uncaught error: boom after first; leaving the group, then exiting');
    expect(run.stderr()).toContain(`${appId} stopped`);
    // Asked at once after the exit: a member that merely died would count for its whole session.
    expect(await groupState(appId)).toBe('Empty');
  });

  it('after a SIGKILL, the restarted instance gets its partitions once the 10 s session timeout ends, not KafkaJS’s 30 s', async () => {
    const app = await configurableApp();
    const dir = await stateDir();
    const first = runCli([...app.args, '--state-dir', dir], app.env);
    runs.push(first);
    await first.waitForOutput(/ running \{/, 90_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const restartedAt = Date.now();
    const second = runCli([...app.args, '--state-dir', dir], app.env);
    runs.push(second);
    await second.waitForOutput(new RegExp(`${app.appId} assigned tasks: 0_0`), 90_000);
    const rejoinMs = Date.now() - restartedAt;
    console.info(`partitions back ${rejoinMs} ms after the restart began`);
    // The dead member's session (10 s) bounds it; with KafkaJS's default it took ~30 s.
    expect(rejoinMs).toBeLessThan(25_000);
    second.child.kill('SIGTERM');
    // Within the shutdown timeout (30 s) and then some; what it was doing is shown if not.
    const code = await Promise.race([second.exited, new Promise((resolve) => setTimeout(() => resolve('still running 45 s after SIGTERM'), 45_000))]);
    expect(code, second.stderr().slice(-8_000)).toBe(0);
  });
});
