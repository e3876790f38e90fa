import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './helpers/cli.ts';
import { useCleanup, type Cleanup } from './helpers/cleanup.ts';
import { brokers, produce, readAllSettled, uniqueName } from './helpers/kafka.ts';

const runners = 20;

/** One busy loop per core, like test/busy.sh, killed after the test. */
function keepCoresBusy(cleanup: Cleanup): void {
  for (let core = 0; core < availableParallelism(); core++) {
    const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanup.defer(() => {
      child.kill('SIGKILL');
      return exited;
    });
  }
}

/** Stops a CLI run after the test: SIGTERM, then SIGKILL if it has not exited within 60 s. */
function stopAfterwards(cleanup: Cleanup, run: CliRun): void {
  cleanup.defer(async () => {
    if (run.child.exitCode !== null || run.child.signalCode !== null) return;
    run.child.kill('SIGTERM');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 60_000);
    await run.exited.finally(() => clearTimeout(timer));
  });
}

/** Resolves when the run logs `<appId> running`; rejects with its stderr if it exits first. */
function running(run: CliRun, appId: string): Promise<void> {
  const exited = run.exited.then((code) => {
    throw new Error(`${appId} exited (${code}) before it ran:\n${run.stderr()}`);
  });
  return Promise.race([run.waitForOutput(new RegExp(`INFO  ${appId} running `), 300_000), exited]);
}

describe('many runners starting at once on a busy machine', () => {
  const cleanup = useCleanup();

  it(`all ${runners} create their topics, run and process a record end to end`, { timeout: 600_000 }, async () => {
    keepCoresBusy(cleanup);
    const apps = await Promise.all(
      Array.from({ length: runners }, async () => {
        const appId = uniqueName('storm');
        const input = uniqueName('storm-in');
        const output = uniqueName('storm-out');
        const stateDir = await cleanup.tempDir('streamrun-storm-');
        // Every start creates its source, output, changelog and dead-letter topics. Twenty
        // runners, two busy loops and the broker on two cores (more when others share the
        // machine) can keep the broker from answering for half a minute: the start-up deadline is
        // widened, since what this test is about is which answers are retried.
        const args = ['start', 'test/e2e/fixtures/counter.ts', '--brokers', brokers(), '--state-dir', stateDir];
        const run = runCli([...args, '--startup-timeout', '180000'], {
          APP_ID: appId,
          INPUT_TOPIC: input,
          OUTPUT_TOPIC: output,
        });
        stopAfterwards(cleanup, run);
        return { appId, input, output, run };
      }),
    );

    const started = await Promise.allSettled(apps.map((app) => running(app.run, app.appId)));
    const failures = started.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).message] : []));
    expect(failures).toEqual([]);
    const retries = apps.reduce((n, app) => n + (app.run.stderr().match(/INFO  start-up: /g)?.length ?? 0), 0);
    // Not asserted (it depends on the machine's load), but worth seeing.
    console.info(`${retries} start-up retries logged by ${runners} runners`);

    // Each counts its one record: key k seen once. Read one app after the other: twenty readers
    // joining and leaving groups at once would load the broker more than the start did.
    await Promise.all(apps.map((app) => produce(app.input, [{ key: 'k', value: 'v' }])));
    const outputs: (string | null)[][][] = [];
    for (const app of apps) {
      const records = await readAllSettled(app.output, { group: app.appId, inputs: [app.input] });
      outputs.push(records.map((r) => [r.key, r.value]));
    }
    expect(outputs).toEqual(apps.map(() => [['k', '1']]));

    // And each stops cleanly.
    for (const app of apps) app.run.child.kill('SIGTERM');
    expect(await Promise.all(apps.map((app) => app.run.exited))).toEqual(apps.map(() => 0));
  });
});
