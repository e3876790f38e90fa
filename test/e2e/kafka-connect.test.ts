import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectPostgres } from '../../lib/connectors/postgres.ts';
import type { ProcessedEvent } from '../../topologies/events/event.ts';
import { useCleanup } from './helpers/cleanup.ts';
import { connectorFile, startConnect } from './helpers/connect.ts';
import { readAll, readAllSettled } from './helpers/kafka.ts';
import { usePipelines } from './helpers/pipeline.ts';
import { waitFor } from './helpers/wait.ts';

const levels = ['INFO', 'INFO', 'INFO', 'INFO', 'INFO', 'WARN', 'WARN', 'WARN', 'ERROR', 'DEBUG'] as const;
// A recent hour: the broker's retention deletes records timestamped long ago.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Line i in one of the time forms logs write: ISO-8601 with a zone, log4j's (no zone: UTC), epoch ms. */
function logLine(i: number): { line: string; type: string; ts: number; message: string } {
  const ts = base + i * 1_037;
  const d = new Date(ts);
  const log4j = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())},${pad(d.getUTCMilliseconds(), 3)}`;
  const time = [d.toISOString(), log4j, String(ts)][i % 3]!;
  const type = levels[(i * 7) % levels.length]!;
  const message = `disk ${i % 5 === 0 ? 'full' : 'at 93%'} on /var #${i}`;
  return { line: `${time} ${type} ${message}`, type, ts, message };
}

/** Lines the default EVENTS_LINE_PATTERN does not match: a stack trace's, a bare message, no level. */
const unmatched = ['Traceback (most recent call last):', '    at com.example.Main.main(Main.java:10)', 'disk full', '2026-12-01T10:00:00Z'];

const countBy = <T>(items: readonly T[], key: (item: T) => string) => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
};

describe('Kafka Connect around the event pipeline', () => {
  const cleanup = useCleanup();
  const pipelines = usePipelines();

  it('FileStreamSource log lines → events.raw → pipeline → PostgreSQL and events.processed → FileStreamSink: 1,000 events exactly, unmatched lines in the DLQ', async () => {
    const setup = await pipelines('postgres');
    const dir = await cleanup.tempDir('streamrun-connect-');
    const logFile = join(dir, 'app.log');
    const sinkFile = join(dir, 'processed.jsonl');
    const raw = `${setup.prefix}events.raw`;
    const lines = Array.from({ length: 1000 }, (_, i) => logLine(i));
    const batch = (from: number, to: number, bad: readonly string[] = []) =>
      [...lines.slice(from, to).map((l) => l.line), ...bad].map((line) => `${line}\n`).join('');

    // Written before the worker starts: the source reads a file from its start.
    await writeFile(logFile, batch(0, 150, unmatched.slice(0, 1)));
    const worker = await startConnect({
      dataDir: join(dir, 'connect'),
      connectors: [
        await connectorFile(dir, 'file-source.properties', { file: logFile, topic: raw }),
        await connectorFile(dir, 'file-sink.properties', { file: sinkFile, topics: `${setup.prefix}events.processed` }),
      ],
    });
    cleanup.defer(() => worker.stop());
    await appendFile(logFile, batch(150, 300));

    const p = await setup.start();
    // The rest while the pipeline runs, a few appends apart.
    for (const [from, to, bad] of [[300, 520, unmatched.slice(1, 2)], [520, 700, []], [700, 1000, unmatched.slice(2)]] as const) {
      await appendFile(logFile, batch(from, to, bad));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }

    const written = 1000 + unmatched.length;
    const records = await readAll(raw, written, 90_000).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}\n${await worker.logTail()}`);
    });
    expect(records).toHaveLength(written);
    const letters = await readAllSettled(`${p.appId}-dlq`, { group: p.appId, inputs: [raw] });
    expect(letters.map((r) => r.value).sort()).toEqual([...unmatched].sort());
    expect(new Set(letters.map((r) => `${String(r.headers?.['streamrun.error.class'])}: ${String(r.headers?.['streamrun.error.message'])}`))).toEqual(
      new Set([expect.stringMatching(/^ValidationError: line: did not match the pattern EVENTS_LINE_PATTERN \(\^/)]),
    );

    // Ids from where a line sits in Kafka: each row is the line at its topic-partition-offset.
    const lineAt = new Map(records.map((r) => [`${raw}-${r.partition}-${r.offset}`, r.value]));
    const byLine = new Map(lines.map((l) => [l.line, l]));
    const db = connectPostgres(setup.databaseUrl, 1);
    try {
      await waitFor('1,000 rows', async () => (await db.one<{ n: number }>('SELECT count(*)::int AS n FROM events')).n >= 1000, { timeoutMs: 90_000 });
      const rows = await db.any<{ id: string; type: string; source: string; ts: Date; payload: { line: string; message: string }; value: number | null }>(
        'SELECT id, type, source, ts, payload, value FROM events',
      );
      expect(rows).toHaveLength(1000);
      expect(countBy(rows, (r) => r.type)).toEqual(countBy(lines, (l) => l.type));
      const wrong = rows.filter((r) => {
        const l = byLine.get(r.payload.line);
        return (
          l === undefined ||
          lineAt.get(r.id) !== l.line ||
          r.type !== l.type ||
          r.source !== 'log' ||
          r.ts.getTime() !== l.ts ||
          r.value !== null ||
          Object.keys(r.payload).length !== 2 ||
          r.payload.message !== l.message
        );
      });
      expect(wrong.slice(0, 5)).toEqual([]);
      expect(new Set(rows.map((r) => r.payload.line)).size).toBe(1000);

      // The sink flushes its file when it commits (every second): wait for all, then for no more.
      const sunk = async () => (await readFile(sinkFile, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
      await waitFor('1,000 lines in the sink file', async () => (await sunk()).length >= 1000, { timeoutMs: 60_000 }).catch(async (error: unknown) => {
        throw new Error(`${(error as Error).message} (${(await sunk()).length})\n${await worker.logTail()}`);
      });
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const processed = (await sunk()).map((line) => JSON.parse(line) as ProcessedEvent);
      expect(processed).toHaveLength(1000);
      expect(new Set(processed.map((e) => e.id))).toEqual(new Set(rows.map((r) => r.id)));
      const typeOf = new Map(rows.map((r) => [r.id, r.type]));
      expect(processed.filter((e) => typeOf.get(e.id) !== e.type)).toEqual([]);
      expect(countBy(processed, (e) => e.type)).toEqual(countBy(lines, (l) => l.type));
    } finally {
      await db.$pool.end();
    }
    expect(await p.stop()).toBe(0);
  });
});
