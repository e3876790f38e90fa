import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, relative } from 'node:path';
import { transform, type Loader } from 'esbuild';

/**
 * esbuild (through tsx) reports a syntax error in TypeScript as "Transform failed with 1
 * error:" and, on the next line, `<path>:<line>:<column>: ERROR: <reason>`, the column from 0.
 */
const transformError = /^(.+):(\d+):(\d+): ERROR: (.+)$/m;
/** tsx's import lexer, on JavaScript it cannot parse: no reason, and a location that is not one. */
const lexerError = /^Parse error (.+):\d+:\d+\s*$/;

const loaders: Readonly<Record<string, Loader>> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.jsx': 'jsx' };

/**
 * One line for a topology module that failed to load: `file:line:column: reason`, where the file
 * is the one at fault (the topology or a module it imports) and the line is known.
 */
export async function describeLoadFailure(error: unknown, path: string, shown: string): Promise<string> {
  const message = error instanceof Error ? error.message : String(error);
  const unparsed = lexerError.exec(message)?.[1];
  const syntax = transformError.exec(unparsed === undefined ? message : await reparse(unparsed));
  if (syntax) return `${relative(process.cwd(), faultyFile(syntax[1]!, path)) || shown}:${syntax[2]}:${Number(syntax[3]) + 1}: ${syntax[4]}`;
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(stack);
  const where = frame ? `${shown}:${frame[1]}:${frame[2]}` : shown;
  return `${where}: ${message.split('\n').find((line) => line.trim() !== '')?.trim() ?? 'failed to load'}`;
}

/** esbuild's own report on a file tsx's lexer could not parse, in the shape of a transform error. */
async function reparse(path: string): Promise<string> {
  try {
    await transform(await readFile(path, 'utf8'), { loader: loaders[extname(path)] ?? 'js', sourcefile: path, format: 'esm' });
  } catch (error) {
    if (error instanceof Error) return error.message;
  }
  return '';
}

/**
 * The file esbuild's report means. tsx hands it `x.cts` and `x.mts` as `x.ts`, and `x.mjs` as
 * `x.js` (so that it picks the right loader): the report names a file that may not exist.
 */
function faultyFile(reported: string, topology: string): string {
  const ext = extname(reported);
  const stem = reported.slice(0, reported.length - ext.length);
  const renamed = (ext === '.ts' ? ['.cts', '.mts'] : ext === '.js' ? ['.mjs'] : []).map((other) => stem + other);
  if (renamed.includes(topology)) return topology;
  if (existsSync(reported)) return reported;
  return renamed.find((candidate) => existsSync(candidate)) ?? reported;
}
