/**
 * `npm test` after tsc: the suite as two vitest processes side by side, then one coverage figure.
 *
 * The end-to-end suite runs once per Kafka client, each on a broker and registry of its own and
 * one file at a time. Vitest runs every project of one `sequence.groupOrder` in one pool with one
 * `maxWorkers`, so it cannot run the two projects side by side and each still one file at a time;
 * two processes can. The first also runs the unit and conformance suites, which take about as long
 * as the kafkats project runs longer than the kafkajs one.
 *
 *   node --import tsx test/run-suites.ts
 */
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import libCoverage from 'istanbul-lib-coverage';
import libReport from 'istanbul-lib-report';
import reports from 'istanbul-reports';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = [
  { name: 'kafkajs', projects: ['unit', 'conformance', 'e2e'] },
  { name: 'kafkats', projects: ['e2e-kafkats'] },
] as const;

function run(name: string, projects: readonly string[]): Promise<number> {
  const args = ['vitest', 'run', '--coverage', '--coverage.reporter=json', `--coverage.reportsDirectory=coverage/${name}`, ...projects.flatMap((p) => ['--project', p])];
  const child = spawn('npx', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: process.env['FORCE_COLOR'] ?? '0' } });
  // Line by line, each named: the two runs' output interleaves.
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    createInterface({ input: stream }).on('line', (line) => out.write(`[${name}] ${line}\n`));
  }
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128))));
}

await rm(`${root}/coverage`, { recursive: true, force: true });
const codes = await Promise.all(runs.map((r) => run(r.name, r.projects)));

const map = libCoverage.createCoverageMap({});
for (const { name } of runs) {
  const file = `${root}/coverage/${name}/coverage-final.json`;
  const data = await readFile(file, 'utf8').catch(() => undefined);
  if (data !== undefined) map.merge(JSON.parse(data) as libCoverage.CoverageMapData);
}
const context = libReport.createContext({ dir: `${root}/coverage`, coverageMap: map });
for (const report of ['text-summary', 'json-summary'] as const) reports.create(report).execute(context);

for (const [i, code] of codes.entries()) if (code !== 0) process.stderr.write(`${runs[i]!.name}: vitest exited ${code}\n`);
process.exit(codes.every((c) => c === 0) ? 0 : 1);
