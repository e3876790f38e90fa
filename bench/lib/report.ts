import type { HttpResult } from './http.ts';
import type { LatencySummary } from './latency.ts';
import type { RunResult } from './measure.ts';

export interface ScenarioResult {
  readonly name: string;
  readonly implementation: string;
  readonly events: number;
  readonly runs: readonly RunResult[];
  /** Medians over the runs. */
  readonly eventsPerSecond: number;
  readonly cpuSecondsPerMillion: number;
  readonly peakRssMb: number;
  /** At a fixed load of half the median rate. */
  readonly latency?: LatencySummary & { readonly rate: number };
}

export interface BenchResults {
  readonly date: string;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly options: { readonly events: number; readonly runs: number; readonly quick: boolean };
  readonly scenarios: readonly ScenarioResult[];
  readonly http: readonly HttpResult[];
  readonly ratios: readonly { readonly name: string; readonly value: number | null }[];
}

const ratioDefinitions: readonly [string, string, string][] = [
  ['streamrun stateless ÷ kafkajs raw pipe', 'streamrun-stateless', 'kafkajs-pipe'],
  ['streamrun windowed ÷ kafkajs raw pipe', 'streamrun-windowed', 'kafkajs-pipe'],
  ['streamrun stateless ÷ Kafka Streams stateless', 'streamrun-stateless', 'kstreams-stateless'],
  ['streamrun windowed ÷ Kafka Streams windowed', 'streamrun-windowed', 'kstreams-windowed'],
  ['@platformatic/kafka pipe ÷ kafkajs pipe', 'platformatic-pipe', 'kafkajs-pipe'],
  ['@kafkats/client pipe ÷ kafkajs pipe', 'kafkats-pipe', 'kafkajs-pipe'],
  ['streamrun stateless on @kafkats/client ÷ Kafka Streams stateless', 'streamrun-stateless-kafkats', 'kstreams-stateless'],
  ['streamrun windowed on @kafkats/client ÷ Kafka Streams windowed', 'streamrun-windowed-kafkats', 'kstreams-windowed'],
  ['streamrun windowed exactly-once ÷ at-least-once (both on @kafkats/client)', 'streamrun-windowed-eos', 'streamrun-windowed-kafkats'],
  ['streamrun stateless with /metrics scraped every 1 s ÷ without', 'streamrun-stateless-scraped', 'streamrun-stateless'],
  ['streamrun stateless on Avro (serdes.avro) ÷ on JSON', 'streamrun-stateless-avro', 'streamrun-stateless'],
  ['streamrun stateless ÷ @kafkats/flow stateless', 'streamrun-stateless', 'kafkats-flow-stateless'],
  ['streamrun windowed ÷ @kafkats/flow windowed', 'streamrun-windowed', 'kafkats-flow-windowed'],
];

export function ratios(scenarios: readonly ScenarioResult[]): BenchResults['ratios'] {
  const rate = (name: string) => scenarios.find((s) => s.name === name)?.eventsPerSecond;
  return ratioDefinitions.map(([name, a, b]) => {
    const x = rate(a);
    const y = rate(b);
    return { name, value: x === undefined || y === undefined || y === 0 ? null : Math.round((x / y) * 100) / 100 };
  });
}

const n = (value: number) => Math.round(value).toLocaleString('en-US');

export function markdown(results: BenchResults): string {
  const lines = [
    `| scenario | implementation | events/s (median of ${results.options.runs}) | p50 ms | p99 ms | p99.9 ms | at events/s | CPU s per M events | peak RSS MB |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of results.scenarios) {
    const l = s.latency;
    lines.push(
      `| ${s.name} | ${s.implementation} | ${n(s.eventsPerSecond)} | ${l ? n(l.p50) : '–'} | ${l ? n(l.p99) : '–'} | ${l ? n(l.p999) : '–'} | ${l ? n(l.rate) : '–'} | ${s.cpuSecondsPerMillion.toFixed(1)} | ${n(s.peakRssMb)} |`,
    );
  }
  if (results.http.length > 0) {
    lines.push('', '| HTTP (100 connections) | req/s | events/s | p50 ms | p99 ms | p99.9 ms | non-2xx |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const h of results.http) {
      lines.push(`| ${h.name} | ${n(h.requestsPerSecond)} | ${h.eventsPerSecond === undefined ? '–' : n(h.eventsPerSecond)} | ${h.p50} | ${h.p99} | ${h.p999} | ${h.non2xx + h.errors} |`);
    }
  }
  lines.push('');
  for (const r of results.ratios) lines.push(`- ${r.name}: ${r.value === null ? 'not measured' : `**${r.value.toFixed(2)}**`}`);
  return lines.join('\n');
}
