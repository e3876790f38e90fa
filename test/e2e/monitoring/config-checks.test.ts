import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { useCleanup } from '../helpers/cleanup.ts';
import { alertmanagerConfig, dashboardFile, dashboardQueries, dockerDir, prometheusDir, readYaml, rulesOf, ruleFiles, runTool, type RuleFile } from '../helpers/monitoring.ts';

/** The shipped monitoring configs (docker/), checked and unit-tested by Prometheus' and Alertmanager's own tools. */

interface AlertTest {
  alertname: string;
  exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
}
interface RuleTests {
  rule_files: string[];
  group_eval_order?: string[];
  tests: { name: string; alert_rule_test?: AlertTest[]; promql_expr_test?: { expr: string; exp_samples: unknown[] }[] }[];
}

const rel = (file: string) => `docker/prometheus/${file}`;
const checked = (file: string, rules: number) => `Checking ${rel(file)}\n  SUCCESS: ${rules} rules found\n\n`;

describe('Prometheus configs', () => {
  it('promtool check config passes on prometheus.yml, with both rule files', async () => {
    const [recording, alerts] = [(await rulesOf('recording-rules.yml')).length, (await rulesOf('alert-rules.yml')).length];
    const run = await runTool('promtool', ['check', 'config', rel('prometheus.yml')]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      `Checking ${rel('prometheus.yml')}\n  SUCCESS: 2 rule files found\n SUCCESS: ${rel('prometheus.yml')} is valid prometheus config file syntax\n\n` +
        checked('recording-rules.yml', recording) +
        checked('alert-rules.yml', alerts),
    );
    expect(run.code).toBe(0);
  });

  it('promtool check rules passes on both rule files, each rule of them counted', async () => {
    const run = await runTool('promtool', ['check', 'rules', ...ruleFiles.map(rel)]);
    const counts = await Promise.all(ruleFiles.map(async (f) => (await rulesOf(f)).length));
    expect(run.stdout).toBe(ruleFiles.map((f, i) => checked(f, counts[i]!)).join(''));
    expect(counts).toEqual([9, 7]);
    expect(run.code).toBe(0);
  });

  it('promtool test rules passes on the tests of both rule files', async () => {
    const tests = ['recording-rules.test.yml', 'alert-rules.test.yml'];
    const run = await runTool('promtool', ['test', 'rules', ...tests.map(rel)]);
    expect(run.stdout).toBe(tests.map((t) => `Unit Testing:  ${rel(t)}\n  SUCCESS\n\n`).join(''));
    expect(run.code).toBe(0);
  });

  it('every alert has a threshold with a `for`, a severity, a summary and a description', async () => {
    const alerts = await rulesOf('alert-rules.yml');
    expect(alerts.map((a) => a.alert)).toEqual([
      'StreamrunInstanceDown',
      'StreamrunLagGrowing',
      'StreamrunErrorRateHigh',
      'StreamrunDlqGrowing',
      'StreamrunLatencyP99High',
      'StreamrunCircuitBreakerOpen',
      'StreamrunRestoreStuck',
    ]);
    for (const a of alerts) {
      expect(a.expr, a.alert).toMatch(/[<>=]=? ?[0-9]/);
      expect(a.for, a.alert).toMatch(/^[0-9]+m$/);
      expect(['critical', 'warning'], a.alert).toContain(a.labels?.['severity']);
      expect(Object.keys(a.annotations ?? {}).sort(), a.alert).toEqual(['description', 'summary']);
    }
  });

  it('the alert tests fire every alert with its severity, and keep every alert silent on healthy series', async () => {
    const names = (await rulesOf('alert-rules.yml')).map((a) => a.alert!);
    const severity = new Map((await rulesOf('alert-rules.yml')).map((a) => [a.alert!, a.labels!['severity']]));
    const suite = await readYaml<RuleTests>(join(prometheusDir, 'alert-rules.test.yml'));
    const cases = suite.tests.flatMap((t) => t.alert_rule_test ?? []);
    const firing = cases.filter((c) => c.exp_alerts.length > 0);
    expect(new Set(firing.map((c) => c.alertname))).toEqual(new Set(names));
    expect(new Set(cases.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname))).toEqual(new Set(names));
    for (const c of firing) {
      for (const e of c.exp_alerts) {
        expect(e.exp_labels['severity'], c.alertname).toBe(severity.get(c.alertname));
        expect(Object.keys(e.exp_annotations).sort(), c.alertname).toEqual(['description', 'summary']);
      }
    }
    // Recorded series first: the alerts read them at the same evaluation.
    expect(suite.rule_files).toEqual([...ruleFiles]);
    const groups = await Promise.all(ruleFiles.map(async (f) => (await readYaml<RuleFile>(join(prometheusDir, f))).groups.map((g) => g.name)));
    expect(suite.group_eval_order).toEqual(groups.flat());
  });

  it('the recording tests check every recorded series, named level:metric:operations', async () => {
    const records = [...new Set((await rulesOf('recording-rules.yml')).map((r) => r.record!))];
    for (const r of records) expect(r).toMatch(/^app:streamrun_[a-z0-9_]+:[a-z0-9_]+$/);
    const suite = await readYaml<RuleTests>(join(prometheusDir, 'recording-rules.test.yml'));
    const tested = suite.tests.flatMap((t) => t.promql_expr_test ?? []).filter((e) => e.exp_samples.length > 0);
    expect(new Set(tested.map((e) => e.expr))).toEqual(new Set(records));
  });
});

describe('Alertmanager config', () => {
  it('amtool check-config passes on alertmanager.yml, whose Slack webhook URL comes only from its file', async () => {
    const run = await runTool('amtool', ['check-config', 'docker/alertmanager/alertmanager.yml']);
    expect(run.stdout).toBe(
      "Checking 'docker/alertmanager/alertmanager.yml'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n - 1 receivers\n - 0 templates\n\n",
    );
    expect(run.code).toBe(0);
    const config = await readYaml<{ receivers: { name: string; slack_configs: Record<string, unknown>[] }[] }>(alertmanagerConfig);
    expect(config.receivers.map((r) => [r.name, r.slack_configs.map((s) => [s['api_url_file'], s['api_url']])])).toEqual([
      ['slack', [['slack-webhook-url', undefined]]],
    ]);
  });
});

describe('Grafana dashboard', () => {
  const cleanup = useCleanup();

  it('every panel query, its variables filled in, is PromQL that promtool accepts', async () => {
    const queries = await dashboardQueries('events');
    expect(queries.filter((q) => q.expr.includes('$'))).toEqual([]);
    const file = join(await cleanup.tempDir('streamrun-dashboard-'), 'dashboard-queries.yml');
    const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}:check`, expr: q.expr }));
    await writeFile(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const run = await runTool('promtool', ['check', 'rules', file]);
    expect(run.stdout).toBe(`Checking ${file}\n  SUCCESS: ${queries.length} rules found\n\n`);
    expect(run.code).toBe(0);
  });

  it('every panel reads the provisioned Prometheus, and the provisioning loads the dashboard from where Compose mounts it', async () => {
    const sources = await readYaml<{ datasources: { uid: string; type: string }[] }>(join(dockerDir, 'grafana/provisioning/datasources/prometheus.yml'));
    const prometheus = sources.datasources.find((d) => d.type === 'prometheus')!;
    const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as { panels: { type: string; datasource?: { uid: string } }[] };
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(new Set(panels.map((p) => p.datasource?.uid))).toEqual(new Set([prometheus.uid]));
    const providers = await readYaml<{ providers: { options: { path: string } }[] }>(join(dockerDir, 'grafana/provisioning/dashboards/streamrun.yml'));
    const grafana = (await compose()).services['grafana']!;
    expect(grafana.volumes).toContain(`./grafana/dashboards:${providers.providers[0]!.options.path}:ro`);
  });
});

interface ComposeService {
  volumes?: string[];
  ports?: string[];
}
const compose = () => readYaml<{ services: Record<string, ComposeService> }>(join(dockerDir, 'docker-compose.yml'));

describe('Docker Compose', () => {
  it('mounts files that exist', async () => {
    const sources = Object.values((await compose()).services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => v.split(':')[0]!)
      .filter((source) => source.startsWith('.'));
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((source) => !existsSync(resolve(dockerDir, source)))).toEqual([]);
  });

  it('has the services Prometheus and Grafana reach, on the ports they reach them at', async () => {
    const { services } = await compose();
    const targets = await Promise.all(
      ['streamrun.yml', 'alertmanager.yml'].map(async (f) => (await readYaml<{ targets: string[] }[]>(join(prometheusDir, 'targets', f))).flatMap((g) => g.targets)),
    );
    const sources = await readYaml<{ datasources: { url: string }[] }>(join(dockerDir, 'grafana/provisioning/datasources/prometheus.yml'));
    const reached = [...targets.flat(), ...sources.datasources.map((d) => new URL(d.url).host)];
    expect(reached).toEqual(['app:8080', 'alertmanager:9093', 'prometheus:9090', 'alertmanager:9093']);
    for (const hostPort of reached) {
      const [host, port] = hostPort.split(':');
      expect(services[host!]?.ports, hostPort).toContain(`${port}:${port}`);
    }
  });
});
