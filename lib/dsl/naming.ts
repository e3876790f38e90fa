import { StreamrunError } from '../errors/streamrun-error.ts';
import type { NodeKind } from '../graph/nodes.ts';

/**
 * Kafka's legal topic characters. App ids and node names follow the same rule because they
 * end up inside consumer group ids and internal topic names.
 */
const LEGAL = /^[A-Za-z0-9._-]+$/;
const MAX_LENGTH = 249;

/**
 * The name a node gets when the user gives none: `<kind>-<n>`, where `n` numbers the
 * topology's operator calls in build order, named or not (`source-0`, `mapValues-1`,
 * `sink-2`). Stable across deploys as long as the topology is built the same way.
 */
export function generatedName(kind: NodeKind, index: number): string {
  return `${kind}-${index}`;
}

/** The outputs of a branch node are named after it: `<branch node>-<branch name>`. */
export function branchOutputName(branchNode: string, branch: string): string {
  return `${branchNode}-${branch}`;
}

export function checkAppId(appId: unknown): string {
  return checkLegal(
    appId,
    'topology(appId)',
    'appId',
    'it becomes the consumer group id and the prefix of internal topic names',
  );
}

export function checkTopic(topic: unknown, where: string): string {
  const name = checkLegal(topic, where, 'topic', 'Kafka allows nothing else in topic names');
  if (name === '.' || name === '..') {
    throw invalid(`${where}: topic cannot be "${name}" (Kafka forbids it)`);
  }
  return name;
}

export function checkNodeName(name: unknown, where: string): string {
  return checkLegal(name, where, 'name', 'names may become part of internal topic names');
}

export function checkBranchName(name: string, where: string): string {
  return checkLegal(name, where, `branch name "${name}"`, 'it becomes part of a node name');
}

function checkLegal(value: unknown, where: string, what: string, why: string): string {
  if (typeof value !== 'string' || !LEGAL.test(value)) {
    throw invalid(
      `${where}: ${what} must be a non-empty string of letters, digits, '.', '_' or '-' ` +
        `(${why}); got ${show(value)}`,
    );
  }
  if (value.length > MAX_LENGTH) {
    throw invalid(
      `${where}: ${what} is ${value.length} characters long; at most ${MAX_LENGTH} are allowed`,
    );
  }
  return value;
}

export function invalid(message: string, node?: string): StreamrunError {
  const options = node === undefined ? {} : { context: { node } };
  return new StreamrunError('INVALID_TOPOLOGY', message, options);
}

/** A short, unambiguous rendering of a bad argument for error messages. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
