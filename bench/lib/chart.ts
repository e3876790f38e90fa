import type { BenchResults } from './report.ts';

const colors: Readonly<Record<string, string>> = {
  kafkajs: '#9aa5b1',
  '@platformatic/kafka': '#c9b37e',
  streamrun: '#2f80ed',
  'Kafka Streams': '#e76f51',
};

/** A horizontal bar per scenario: events per second, coloured by implementation. */
export function chartSvg(results: BenchResults): string {
  const rows = results.scenarios;
  const width = 900;
  const left = 200;
  const right = 120;
  const rowHeight = 28;
  const top = 40;
  const height = top + rows.length * rowHeight + 30;
  const max = Math.max(1, ...rows.map((r) => r.eventsPerSecond));
  const scale = (v: number) => ((width - left - right) * v) / max;
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const bars = rows.map((r, i) => {
    const y = top + i * rowHeight;
    const w = scale(r.eventsPerSecond);
    return [
      `<text x="${left - 8}" y="${y + 18}" text-anchor="end">${escape(r.name)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${colors[r.implementation] ?? '#777'}"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 18}">${Math.round(r.eventsPerSecond).toLocaleString('en-US')}/s</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">events per second, median of ${results.options.runs} (${results.options.events.toLocaleString('en-US')} events, ${escape(String(results.machine['cpus']))} cores)</text>`,
    ...bars,
    '</svg>',
  ].join('\n');
}
