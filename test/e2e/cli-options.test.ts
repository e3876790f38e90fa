import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './helpers/cli.ts';
import { configurableApp, useStateDirs } from './helpers/claims.ts';
import { partitionCount, produce, readAll } from './helpers/kafka.ts';

describe('streamrun start options', () => {
  const stateDir = useStateDirs();
  const runs: CliRun[] = [];
  afterEach(async () => {
    await Promise.all(
      runs.splice(0).map(async (run) => {
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM');
        expect(await run.exited).toBe(0);
      }),
    );
  });
  /** Starts the configurable fixture and waits until it runs. */
  async function started(app: Awaited<ReturnType<typeof configurableApp>>, flags: string[], env: Record<string, string> = {}) {
    const run = runCli([...app.args, '--state-dir', await stateDir(), ...flags], { ...app.env, ...env });
    runs.push(run);
    await run.waitForOutput(/ running \{/, 90_000);
    return run;
  }
  const httpUrl = (run: CliRun) => /"http":"([^"]+)"/.exec(run.stderr())?.[1];

  it('--export runs the named export instead of the default one', async () => {
    const app = await configurableApp();
    const run = await started(app, ['--export', 'lower']);
    expect(run.stderr()).toContain(`${app.appId}-lower running`);
    await produce(app.input, [{ key: 'k', value: 'MiXeD' }]);
    expect((await readAll(app.output, 1)).map((r) => r.value)).toEqual(['mixed']);
  });

  it('--export of a name the module lacks lists the topologies it has', async () => {
    const app = await configurableApp();
    const run = runCli([...app.args, '--export', 'nope'], app.env);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toBe(
      'streamrun: test/e2e/fixtures/claims/configurable.ts has no export named nope that is a topology; its topologies: default, lower (use --export NAME)\n',
    );
  });

  it('--log-format json (or STREAMRUN_LOG_FORMAT): every line on stderr is one JSON object, from start to the drain', async () => {
    const app = await configurableApp();
    const byFlag = runCli([...app.args, '--state-dir', await stateDir(), '--log-format', 'json'], app.env);
    const byEnv = runCli([...app.args, '--export', 'lower', '--state-dir', await stateDir()], { ...app.env, STREAMRUN_LOG_FORMAT: 'json' });
    for (const run of [byFlag, byEnv]) await run.waitForOutput(/ running"/, 90_000);
    await produce(app.input, [{ key: 'k', value: 'MiXeD' }]);
    // Both read the input in their own groups: one uppercases, the other lowercases.
    expect((await readAll(app.output, 2)).map((r) => r.value).sort()).toEqual(['MIXED', 'mixed']);
    for (const run of [byFlag, byEnv]) run.child.kill('SIGTERM');
    expect(await Promise.all([byFlag.exited, byEnv.exited])).toEqual([0, 0]);
    for (const [run, appId] of [
      [byFlag, app.appId],
      [byEnv, `${app.appId}-lower`],
    ] as const) {
      const lines = run.stderr().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const line of lines) {
        expect(['info', 'warn']).toContain(line['level']);
        expect(new Date(String(line['time'])).toISOString()).toBe(line['time']);
        expect(typeof line['msg']).toBe('string');
      }
      expect(lines.find((l) => l['msg'] === `${appId} running`)).toMatchObject({ level: 'info', brokers: [app.args[3]] });
      expect(lines.map((l) => l['msg'])).toContain('received SIGTERM: draining in-flight work');
      expect(lines.at(-1)).toMatchObject({ level: 'info', msg: `${appId} stopped`, consumed: 1, produced: 1 });
    }
  });

  it('describe --export describes the named export', async () => {
    const app = await configurableApp();
    const run = runCli(['describe', 'test/e2e/fixtures/claims/configurable.ts', '--export', 'lower', '--json'], app.env);
    expect(await run.exited).toBe(0);
    const json = JSON.parse(run.stdout()) as { appId: string };
    expect(json.appId).toBe(`${app.appId}-lower`);
  });

  it('--source-partitions sets the partitions of a missing source topic, with a warning', async () => {
    const app = await configurableApp(0);
    const run = await started(app, ['--source-partitions', '4']);
    expect(run.stderr()).toMatch(new RegExp(`WARN  source topic ${app.input} did not exist: creating it with 4 partition\\(s\\)\\n`));
    expect(await partitionCount(app.input)).toBe(4);
    expect(await partitionCount(app.output)).toBe(4);
  });

  it('a flag overrides the module\'s options export; what no flag gives comes from it', async () => {
    const app = await configurableApp(0);
    // options: port 0 and 2 source partitions; the flag says 3.
    const run = await started(app, ['--source-partitions', '3'], { MODULE_OPTIONS: JSON.stringify({ port: 0, sourcePartitions: 2 }) });
    expect(await partitionCount(app.input)).toBe(3);
    const url = httpUrl(run);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { appId: string }).appId).toBe(app.appId);
  });

  it("--startup-timeout sets startupTimeoutMs, over the module's options", async () => {
    const app = await configurableApp();
    const env = { ...app.env, MODULE_OPTIONS: JSON.stringify({ startupTimeoutMs: 0 }) };
    const refused = runCli([...app.args, '--state-dir', await stateDir()], env);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toBe('streamrun: startupTimeoutMs: expected a positive integer, got 0\n');
    const run = await started(app, ['--startup-timeout', '5000'], { MODULE_OPTIONS: env.MODULE_OPTIONS });
    expect(run.stderr()).toContain(`${app.appId} running`);
  });

  it('a SIGTERM during start-up lets the start finish, then drains and exits 0', async () => {
    const app = await configurableApp();
    const run = runCli([...app.args, '--state-dir', await stateDir()], app.env);
    // Logged inside start(), while topics are created: the CLI is past loading the module.
    await run.waitForOutput(/creating output topic/, 90_000);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const log = run.stderr();
    expect(log).toContain('received SIGTERM while starting: stopping as soon as the start-up is done');
    expect(log.indexOf(`${app.appId} running`)).toBeLessThan(log.indexOf(`${app.appId} stopped`));
  });

  it('--host binds the HTTP server to that interface only', async () => {
    const app = await configurableApp();
    const run = await started(app, ['--port', '0', '--host', '127.0.0.2']);
    const url = httpUrl(run);
    const port = /^http:\/\/127\.0\.0\.2:(\d+)$/.exec(url ?? '')?.[1];
    expect(port).toBeDefined();
    expect((await fetch(`${url}/health`)).status).toBe(200);
    // Nothing listens on that port of another loopback address.
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });

  it('without --host the server listens on 127.0.0.1', async () => {
    const app = await configurableApp();
    const run = await started(app, ['--port', '0']);
    const port = /^http:\/\/127\.0\.0\.1:(\d+)$/.exec(httpUrl(run) ?? '')?.[1];
    expect(port).toBeDefined();
    await expect(fetch(`http://127.0.0.2:${port}/health`)).rejects.toThrow();
  });
});
