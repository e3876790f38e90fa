import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reservePorts } from '../setup/ports.ts';
import { useCleanup } from '../helpers/cleanup.ts';
import { dockerDir, query, rulesOf, runTool } from '../helpers/monitoring.ts';
import { waitFor } from '../helpers/wait.ts';

/** docker/monitoring.sh as a user without Docker runs it: the shipped configs, ports and data dir from the environment. */

const script = join(dockerDir, 'monitoring.sh');

async function apiData<T>(url: string): Promise<T> {
  return ((await (await fetch(url)).json()) as { data: T }).data;
}

const refused = (url: string) =>
  fetch(url).then(
    () => false,
    () => true,
  );

describe('docker/monitoring.sh', () => {
  const cleanup = useCleanup();

  it('starts Prometheus and Alertmanager on the given ports, scraping the given runners, and stops them', async () => {
    const [prometheusPort, alertmanagerPort, runner1, runner2] = await reservePorts(4);
    const dataDir = await cleanup.tempDir('streamrun-monitoring-');
    const webhook = 'https://hooks.slack.example/services/T000/B000/secret';
    const env = {
      PROMETHEUS_PORT: String(prometheusPort),
      ALERTMANAGER_PORT: String(alertmanagerPort),
      MONITORING_DATA_DIR: dataDir,
      STREAMRUN_TARGETS: `127.0.0.1:${runner1},127.0.0.1:${runner2}`,
      SLACK_WEBHOOK_URL: webhook,
    };
    const prometheus = { url: `http://127.0.0.1:${prometheusPort}`, output: () => '' };
    const alertmanager = `http://127.0.0.1:${alertmanagerPort}`;
    cleanup.defer(() => runTool('bash', [script, 'stop'], env));

    const started = await runTool('bash', [script, 'start'], env);
    expect(started.stdout).toMatch(
      new RegExp(
        `^monitoring: alertmanager up on ${alertmanager} \\(pid \\d+, data in ${dataDir}/alertmanager\\)\n` +
          `monitoring: prometheus up on ${prometheus.url} \\(pid \\d+, data in ${dataDir}/prometheus\\)\n` +
          `monitoring: scraping 127.0.0.1:${runner1},127.0.0.1:${runner2}\n$`,
      ),
    );
    expect(started.code).toBe(0);

    // The shipped rules, every one of them loaded.
    const groups = await apiData<{ groups: { rules: { name: string }[] }[] }>(`${prometheus.url}/api/v1/rules`);
    const shipped = [...(await rulesOf('recording-rules.yml')).map((r) => r.record), ...(await rulesOf('alert-rules.yml')).map((r) => r.alert)];
    expect(groups.groups.flatMap((g) => g.rules.map((r) => r.name)).sort()).toEqual(shipped.sort());

    // Both runners scraped (nobody answers there, so `up` is 0) and the alerts sent to this Alertmanager.
    const up = await waitFor(
      'both runners scraped',
      async () => {
        const samples = await query(prometheus, 'up{job="streamrun"}');
        return samples.length === 2 && samples;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(up.map((s) => `${s.metric['instance']} ${s.value[1]}`).sort()).toEqual([`127.0.0.1:${runner1} 0`, `127.0.0.1:${runner2} 0`].sort());
    const alertmanagers = await waitFor('Alertmanager discovered', async () => {
      const found = await apiData<{ activeAlertmanagers: { url: string }[] }>(`${prometheus.url}/api/v1/alertmanagers`);
      return found.activeAlertmanagers.length > 0 && found.activeAlertmanagers;
    });
    expect(alertmanagers).toEqual([{ url: `${alertmanager}/api/v2/alerts` }]);

    // Alertmanager alone (no cluster), its webhook URL in a file only its owner reads.
    const status = (await (await fetch(`${alertmanager}/api/v2/status`)).json()) as { cluster: { status: string } };
    expect(status.cluster.status).toBe('disabled');
    const urlFile = join(dataDir, 'alertmanager', 'slack-webhook-url');
    expect(await readFile(urlFile, 'utf8')).toBe(webhook);
    expect((await stat(urlFile)).mode & 0o777).toBe(0o600);

    const again = await runTool('bash', [script, 'start'], env);
    expect(again.stdout).toMatch(/^monitoring: alertmanager already running \(pid \d+\)/);
    expect((await runTool('bash', [script, 'status'], env)).code).toBe(0);

    const stopped = await runTool('bash', [script, 'stop'], env);
    expect(stopped.stdout).toMatch(/^monitoring: prometheus stopped by SIGTERM \(pid \d+\)\nmonitoring: alertmanager stopped by SIGTERM \(pid \d+\)\n$/);
    expect(await refused(`${prometheus.url}/-/ready`)).toBe(true);
    expect(await refused(`${alertmanager}/-/ready`)).toBe(true);
    const after = await runTool('bash', [script, 'status'], env);
    expect([after.code, after.stdout]).toEqual([1, 'monitoring: prometheus not running\nmonitoring: alertmanager not running\n']);
  });
});
