import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { serdes, start, StreamrunError, topology } from '../../lib/index.ts';
import { runCli, type CliRun } from './helpers/cli.ts';
import { committedOffsets, configurableApp, groupState, useStateDirs } from './helpers/claims.ts';
import { brokers, createTopic, produce, readAll, recordCount, uniqueName } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { waitFor } from './helpers/wait.ts';

// Generous: "at once" against a drain that would take minutes.
const atOnceMs = 15_000;

describe('stopping the CLI while a record waits on a long enrich call', () => {
  const stateDir = useStateDirs();
  const runs: CliRun[] = [];
  afterEach(async () => {
    for (const run of runs.splice(0)) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });
  const cli = (args: string[], env: Record<string, string>) => {
    const run = runCli(args, env);
    runs.push(run);
    return run;
  };

  // The restart waits out the killed member's session (~30 s): once is enough.
  it.each([
    ['SIGTERM', true],
    ['SIGINT', false],
  ] as const)('a second %s exits 1 at once, committing nothing (then a restart reads the record again: %s)', async (signal, restart) => {
    const app = await configurableApp();
    const dir = await stateDir();
    // The drain could last 10 minutes: only the second signal can end it soon.
    const env = { ...app.env, ENRICH_MS: '120000', MODULE_OPTIONS: JSON.stringify({ shutdownTimeoutMs: 600_000 }) };
    const run = cli([...app.args, '--state-dir', dir], env);
    await run.waitForOutput(new RegExp(`${app.appId} running`), 90_000);
    await produce(app.input, [{ key: 'k', value: 'abc' }]);
    await run.waitForOutput(/enrich waits 120000 ms for abc/);

    run.child.kill(signal);
    await run.waitForOutput(new RegExp(`received ${signal}: draining in-flight work`));
    const second = performance.now();
    run.child.kill(signal);
    expect(await run.exited).toBe(1);
    expect(performance.now() - second).toBeLessThan(atOnceMs);
    expect(run.stderr()).toContain(`streamrun: second ${signal}: exiting before the drain finished\n`);
    expect(run.stderr()).not.toContain(`${app.appId} stopped`);

    expect(await recordCount(app.output)).toBe(0);
    expect(await committedOffsets(app.appId, app.input)).toEqual([-1]);
    if (!restart) return;

    const again = cli([...app.args, '--state-dir', dir], { ...app.env, ENRICH_MS: '0' });
    expect((await readAll(app.output, 1)).map((r) => [r.key, r.value])).toEqual([['k', 'ABC']]);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(await committedOffsets(app.appId, app.input)).toEqual([1]);
  });

  it('a SIGTERM that comes in the tick start-up ends is acted on: the runner drains and the process exits 0', async () => {
    const app = await configurableApp();
    const run = cli(['start', 'test/e2e/fixtures/signal-at-running.ts', '--brokers', brokers(), '--state-dir', await stateDir()], app.env);
    const code = await Promise.race([run.exited, sleep(60_000).then(() => 'still running 60 s after its SIGTERM')]);
    expect(code, run.stderr()).toBe(0);
    expect(run.stderr()).toContain('received SIGTERM: draining in-flight work');
    expect(run.stderr()).toContain(`${app.appId} stopped`);
  });

  it("a single SIGTERM that cannot drain within the module's shutdownTimeoutMs exits 1 after it", async () => {
    const app = await configurableApp();
    const env = { ...app.env, ENRICH_MS: '120000', MODULE_OPTIONS: JSON.stringify({ shutdownTimeoutMs: 2000 }) };
    const run = cli([...app.args, '--state-dir', await stateDir()], env);
    await run.waitForOutput(new RegExp(`${app.appId} running`), 90_000);
    await produce(app.input, [{ key: 'k', value: 'abc' }]);
    await run.waitForOutput(/enrich waits 120000 ms for abc/);
    const stopAt = performance.now();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(1);
    // Long before the 120 s call would have ended.
    expect(performance.now() - stopAt).toBeLessThan(2000 + atOnceMs);
    expect(run.stderr()).toContain('streamrun: could not drain and commit within 2000 ms\n');
    expect(await recordCount(app.output)).toBe(0);
    expect(await committedOffsets(app.appId, app.input)).toEqual([-1]);
  });
});

describe('runner.stop() with shutdownTimeoutMs', () => {
  const stateDir = useStateDirs();
  let release: (() => void) | undefined;
  afterEach(() => release?.());

  it('rejects with SHUTDOWN_TIMEOUT when the batch in flight cannot drain in time, and so does runner.finished', async () => {
    const input = uniqueName('drain-in');
    const output = uniqueName('drain-out');
    const appId = uniqueName('drain');
    await createTopic(input, 1);
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    let drained = false;
    const runner = await start(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .enrich(async (v) => {
          calls++;
          await gate;
          drained = true;
          return v;
        }, { name: 'gated' })
        .to(output),
      { brokers: brokers(), stateDir: await stateDir(), logger: collectingLogger(), shutdownTimeoutMs: 1500 },
    );
    await produce(input, [{ key: 'k', value: 'v' }]);
    await waitFor('the call to start', () => calls === 1);

    const stopAt = performance.now();
    const stopped = await runner.stop().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(performance.now() - stopAt).toBeLessThan(1500 + atOnceMs);
    expect(stopped).toBeInstanceOf(StreamrunError);
    expect([(stopped as StreamrunError).code, (stopped as StreamrunError).message]).toEqual([
      'SHUTDOWN_TIMEOUT',
      'could not drain and commit within 1500 ms',
    ]);
    expect(drained).toBe(false);
    await expect(runner.finished).rejects.toBe(stopped);
    // A second stop() is the same stop.
    await expect(runner.stop()).rejects.toBe(stopped);

    // Once the call returns, the close that went on behind the timeout finishes: the member
    // leaves the group without committing a batch that was given up.
    release!();
    await waitFor('the group to be empty', async () => (await groupState(appId)) === 'Empty');
    expect(drained).toBe(true);
    expect(await committedOffsets(appId, input)).toEqual([-1]);
    expect(await recordCount(output)).toBe(0);
  });
});
