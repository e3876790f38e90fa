import type { Logger } from '../../../lib/index.ts';

/** A logger that keeps what it is told, so tests can assert on it (and stay quiet). */
export function collectingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string, fields?: Readonly<Record<string, unknown>>) => {
    lines.push(`${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  };
  return { lines, error: keep('error'), warn: keep('warn'), info: keep('info'), debug: () => {} };
}
