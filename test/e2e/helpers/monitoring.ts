import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { reservePorts } from '../setup/ports.ts';
import type { Cleanup } from './cleanup.ts';
import { repoRoot } from './cli.ts';
import { waitFor } from './wait.ts';

/** The monitoring configs under docker/, and real Prometheus and Alertmanager processes running them. */

export const dockerDir = join(repoRoot, 'docker');
export const prometheusDir = join(dockerDir, 'prometheus');
export const alertmanagerConfig = join(dockerDir, 'alertmanager', 'alertmanager.yml');
export const dashboardFile = join(dockerDir, 'grafana', 'dashboards', 'streamrun.json');
export const ruleFiles = ['recording-rules.yml', 'alert-rules.yml'] as const;

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}

export async function readYaml<T>(file: string): Promise<T> {
  return parse(await readFile(file, 'utf8')) as T;
}

/** Every rule of a shipped rule file (docker/prometheus). */
export async function rulesOf(file: (typeof ruleFiles)[number]): Promise<Rule[]> {
  return (await readYaml<RuleFile>(join(prometheusDir, file))).groups.flatMap((g) => g.rules);
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, whatever its exit code. */
export function runTool(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Daemon {
  readonly url: string;
  /** What it printed so far, for a failure's message. */
  output(): string;
}

/**
 * Starts `command` on a free port (handed to `args`) from `cwd` and waits until its /-/ready
 * answers 200 (Prometheus and Alertmanager both have one); `cleanup` stops it (SIGTERM).
 */
async function startDaemon(command: string, args: (port: number) => string[], cwd: string, cleanup: Cleanup): Promise<Daemon> {
  const [port] = await reservePorts(1);
  const child = spawn(command, args(port!), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  cleanup.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${command} to answer on ${url}`, async () => {
    if (child.exitCode !== null) throw new Error(`${command} exited ${child.exitCode}:\n${output}`);
    return (await fetch(`${url}/-/ready`)).status === 200;
  });
  return { url, output: () => output };
}

export interface PrometheusSetup {
  /** host:port of each runner to scrape. */
  readonly targets: readonly string[];
  /** Where to send alerts (none: nowhere). */
  readonly alertmanager?: Daemon;
  /** Changes a rule before it is written, e.g. a shorter `for`. */
  readonly rule?: (rule: Rule) => Rule;
}

/**
 * Prometheus running the shipped config (docker/prometheus/prometheus.yml and its rule files)
 * with two changes: it scrapes and evaluates every second, and its target files name `setup`'s.
 */
export async function startPrometheus(setup: PrometheusSetup, cleanup: Cleanup): Promise<Daemon> {
  const dir = await cleanup.tempDir('streamrun-prometheus-');
  const config = await readYaml<{ global: Record<string, string> }>(join(prometheusDir, 'prometheus.yml'));
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  for (const file of ruleFiles) {
    const rules = await readYaml<RuleFile>(join(prometheusDir, file));
    const rewrite = setup.rule ?? ((r: Rule) => r);
    await writeFile(join(dir, file), stringify({ groups: rules.groups.map((g) => ({ ...g, rules: g.rules.map(rewrite) })) }));
  }
  await mkdir(join(dir, 'targets'));
  await writeFile(join(dir, 'targets', 'streamrun.yml'), stringify([{ targets: setup.targets }]));
  const alertmanagers = setup.alertmanager === undefined ? [] : [{ targets: [new URL(setup.alertmanager.url).host] }];
  await writeFile(join(dir, 'targets', 'alertmanager.yml'), stringify(alertmanagers));
  return startDaemon(
    'prometheus',
    (port) => [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
    dir,
    cleanup,
  );
}

/**
 * Alertmanager running the shipped config (docker/alertmanager/alertmanager.yml) with a group
 * wait and interval of a second, and its webhook file naming `webhookUrl`.
 */
export async function startAlertmanager(webhookUrl: string, cleanup: Cleanup): Promise<Daemon> {
  const dir = await cleanup.tempDir('streamrun-alertmanager-');
  const config = await readYaml<{ route: Record<string, unknown> }>(alertmanagerConfig);
  config.route = { ...config.route, group_wait: '1s', group_interval: '1s' };
  await writeFile(join(dir, 'alertmanager.yml'), stringify(config));
  await writeFile(join(dir, 'slack-webhook-url'), webhookUrl);
  return startDaemon(
    'prometheus-alertmanager',
    (port) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    dir,
    cleanup,
  );
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query through Prometheus' HTTP API. */
export async function query(prometheus: Daemon, expr: string): Promise<Sample[]> {
  const response = await fetch(`${prometheus.url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await response.json()) as { status: string; error?: string; data?: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
  return body.data!.result;
}

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

/**
 * Each query of each panel of the Grafana dashboard, with the dashboard's variables filled in:
 * `$app` the application, `$__rate_interval` a minute.
 */
export async function dashboardQueries(app: string): Promise<{ panel: string; expr: string }[]> {
  const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as { panels: Panel[] };
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$app', app).replaceAll('$__rate_interval', '1m') })),
  );
}
