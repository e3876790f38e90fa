import type { StreamClient } from '../../lib/kafka/client.ts';
import { bytesText, matches, readRanges, span, watermarks, type Condition, type DeadLetter } from './dead-letters.ts';
import type { Output } from './output.ts';

export interface InspectOptions {
  readonly topic: string;
  /** All must hold for a dead letter to be shown. */
  readonly conditions: readonly Condition[];
  /** Show at most this many. */
  readonly limit: number;
  /** One JSON object per line instead of a table; the summary then goes to stderr. */
  readonly json: boolean;
  /** Width the table must fit; the message column takes what the others leave. */
  readonly columns: number;
}

/**
 * Reads a dead-letter topic from its beginning to its current end, every partition, and prints
 * the dead letters that match as a table or as JSON lines, then a summary. Exit code 0.
 */
export async function inspect(client: StreamClient, options: InspectOptions, output: Output): Promise<number> {
  const { topic, conditions, limit, json } = options;
  const marks = await watermarks(client, topic);
  const summary = json ? output.err : output.out;
  if ([...marks.values()].every((m) => span(m.low, m.high) === 0)) {
    summary(`${topic} is empty: no dead letters`);
    return 0;
  }
  const ranges = new Map([...marks].map(([partition, m]) => [partition, { from: m.low, until: m.high }]));
  const shown: DeadLetter[] = [];
  let read = 0;
  let matched = 0;
  await readRanges(client, topic, ranges, (letters) => {
    for (const letter of letters) {
      read++;
      if (!matches(letter, conditions)) continue;
      matched++;
      if (shown.length >= limit) continue;
      shown.push(letter);
      if (json) output.out(jsonLine(topic, letter));
    }
  });
  if (!json && shown.length > 0) for (const line of table(shown, options.columns)) output.out(line);
  const parts = [`${read} records`, ...(conditions.length > 0 ? [`${matched} match`] : []), `${shown.length} shown`];
  summary(`${parts.join(', ')}${matched > shown.length ? ` (--limit ${limit})` : ''}`);
  return 0;
}

const headings = ['DLQ', 'ORIGINAL', 'NODE', 'ATTEMPTS', 'ERROR', 'DEAD-LETTERED AT', 'MESSAGE'] as const;
const minMessageWidth = 20;

function table(letters: readonly DeadLetter[], columns: number): string[] {
  const rows = letters.map((l) => [
    `${l.partition}/${l.record.offset}`,
    `${l.original.topic ?? '?'}/${l.original.partition ?? '?'}/${l.original.offset ?? '?'}`,
    l.node ?? '-',
    l.attempts === undefined ? '-' : String(l.attempts),
    l.errorClass ?? '-',
    iso(l.deadLetteredAt) ?? '-',
    (l.errorMessage ?? '').replace(/\s*\n\s*/g, ' ⏎ ').trim(),
  ]);
  const widths = headings.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const gap = '  ';
  const fixed = widths.reduce((sum, w) => sum + w + gap.length, 0);
  const messageWidth = Math.max(minMessageWidth, columns - fixed);
  const line = (cells: readonly string[]) =>
    [...widths.map((w, i) => cells[i]!.padEnd(w)), truncate(cells[cells.length - 1]!, messageWidth)].join(gap).trimEnd();
  return [line(headings), ...rows.map(line)];
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/**
 * Everything the dead letter holds: where it sits and came from, why it failed, and its key,
 * value and headers as text. Bytes that are not valid UTF-8 are given in base64 instead, and
 * `base64` names those fields (`key`, `value`, `headers.<name>`).
 */
function jsonLine(topic: string, letter: DeadLetter): string {
  const base64 = new Set<string>();
  const text = (field: string, bytes: Buffer | string | null) => {
    if (bytes === null) return null;
    const decoded = bytesText(bytes);
    if (decoded.base64) base64.add(field);
    return decoded.text;
  };
  const headers: Record<string, string | (string | null)[] | null> = {};
  for (const [name, value] of Object.entries(letter.record.headers ?? {})) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.map((v) => text(`headers.${name}`, v)) : text(`headers.${name}`, value);
  }
  const { original } = letter;
  return JSON.stringify({
    dlq: { topic, partition: letter.partition, offset: letter.record.offset, timestamp: iso(Number(letter.record.timestamp)) },
    original: {
      topic: original.topic ?? null,
      partition: original.partition ?? null,
      offset: original.offset ?? null,
      timestamp: iso(Number(original.timestamp)),
    },
    node: letter.node ?? null,
    attempts: letter.attempts ?? null,
    errorClass: letter.errorClass ?? null,
    errorMessage: letter.errorMessage ?? null,
    errorStack: letter.errorStack ?? null,
    appId: letter.appId ?? null,
    deadLetteredAt: iso(letter.deadLetteredAt),
    key: text('key', letter.record.key),
    value: text('value', letter.record.value),
    headers,
    ...(base64.size > 0 ? { base64: [...base64] } : {}),
  });
}

function iso(ms: number | undefined): string | null {
  // Beyond ±8.64e15 ms a Date is invalid and toISOString throws.
  return ms === undefined || !(Math.abs(ms) <= 8.64e15) ? null : new Date(ms).toISOString();
}
