import type { Serde } from '../serde/serde.ts';
import { checkNodeName, invalid, show } from './naming.ts';
import type { NamedOptions } from './options.ts';

/*
 * Checks of what users pass to the DSL. TypeScript catches most of it, but topologies may be
 * written in JavaScript, and a mistake found while building beats one found on the first record.
 */

export function checkFunction<F>(fn: F, where: string, what = 'the callback'): F {
  if (typeof fn !== 'function') {
    throw invalid(`${where}: ${what} must be a function; got ${show(fn)}`);
  }
  return fn;
}

export function checkSerde(serde: unknown, where: string, what: string): Serde<unknown> {
  const s = serde as Partial<Serde<unknown>> | null | undefined;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.name !== 'string' ||
    typeof s.serialize !== 'function' ||
    typeof s.deserialize !== 'function'
  ) {
    throw invalid(
      `${where}: ${what} must be a Serde (an object with name, serialize and deserialize); ` +
        `got ${show(serde)}`,
    );
  }
  return s as Serde<unknown>;
}

/** The user's node name, if any, after checking the options object. */
export function nameOption(options: NamedOptions | undefined, where: string): string | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw invalid(
      `${where}: options must be an object like { name: 'my-node' }; got ${show(options)}`,
    );
  }
  return options.name === undefined ? undefined : checkNodeName(options.name, where);
}

export function checkObject(value: unknown, where: string, what: string): void {
  if (typeof value !== 'object' || value === null) {
    throw invalid(`${where}: ${what} must be an object; got ${show(value)}`);
  }
}
