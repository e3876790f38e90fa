import { readdirSync, readFileSync } from 'node:fs';

/** A case of test/golden/cases: a topology, given by kind and parameters, and its input. */
export interface GoldenCase<T = unknown> {
  readonly description: string;
  readonly topology: T;
  readonly input: readonly { topic: string; key: string | null; value: string | null; timestamp: number }[];
}

/** A record Kafka Streams emitted for a case, and the index of the input record it came after. */
export interface GoldenRecord {
  readonly after: number;
  /** A string, or a windowed key `{ key, start, end }`. */
  readonly key: unknown;
  readonly value: string | null;
  readonly timestamp: number;
}

const root = new URL('./', import.meta.url);
const readJson = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, root), 'utf8')) as T;

export const goldenCaseNames = (): string[] =>
  readdirSync(new URL('cases/', root)).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();

export const goldenExpectedNames = (): string[] =>
  readdirSync(new URL('expected/', root)).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();

export const goldenCase = <T>(name: string): GoldenCase<T> => readJson(`cases/${name}.json`);

/** What Kafka Streams emitted for the case (written by `npm run golden`). */
export const goldenOutput = (name: string): GoldenRecord[] => readJson<{ output: GoldenRecord[] }>(`expected/${name}.json`).output;

/** A key as the golden files hold it: windowed keys are streamrun's JSON `{ key, start, end }`. */
export const goldenKey = (bytes: Buffer | string | null): unknown => {
  if (bytes === null) return null;
  const text = bytes.toString();
  return text.startsWith('{') ? JSON.parse(text) : text;
};
