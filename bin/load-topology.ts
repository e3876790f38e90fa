import { access } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { isTopology, type Topology } from '../lib/dsl/topology.ts';
import { StreamrunError } from '../lib/errors/streamrun-error.ts';
import type { RunnerOptions } from '../lib/runtime/options.ts';
import type { Setup } from '../lib/runtime/setup.ts';
import { describeLoadFailure } from './load-failure.ts';
import { importTopologyFile } from './topology-loaders.ts';

/** What a topology module may export besides its topology. */
export interface TopologyModule {
  readonly topology: Topology;
  /** The `setup` export: services started with the runner (see SetupContext). */
  readonly setup?: Setup;
  /** The `options` export: defaults for the runner that command-line flags override. */
  readonly options?: RunnerOptions;
}

/**
 * Imports a user's topology module (TypeScript or JavaScript) and picks its topology: the
 * default export, or the named export `exportName`. Every failure is a TOPOLOGY_LOAD error whose
 * message is one line naming the file (and the line, when the file itself is at fault).
 */
export async function loadTopology(file: string, exportName = 'default'): Promise<Topology> {
  return (await loadTopologyModule(file, exportName)).topology;
}

/** Like `loadTopology`, with the module's `setup` and `options` exports when it has them. */
export async function loadTopologyModule(file: string, exportName = 'default'): Promise<TopologyModule> {
  const path = resolve(file);
  const shown = relative(process.cwd(), path) || file;
  try {
    await access(path);
  } catch {
    throw loadError(`cannot find topology file ${shown}`);
  }
  let module: Record<string, unknown>;
  try {
    module = await importTopologyFile(path);
  } catch (error) {
    throw loadError(await describeLoadFailure(error, path, shown), error);
  }
  const candidate = module[exportName];
  if (!isTopology(candidate)) {
    const found = Object.keys(module).filter((name) => isTopology(module[name]));
    const what = exportName === 'default' ? 'no default export' : `no export named ${exportName}`;
    const hint = found.length > 0 ? `; its topologies: ${found.join(', ')} (use --export NAME)` : '';
    throw loadError(`${shown} has ${what} that is a topology${hint}`);
  }
  const { setup, options } = module;
  if (setup !== undefined && typeof setup !== 'function') throw loadError(`${shown}: its export "setup" must be a function`);
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw loadError(`${shown}: its export "options" must be an object of runner options`);
  }
  return {
    topology: candidate,
    ...(setup === undefined ? {} : { setup: setup as Setup }),
    ...(options === undefined ? {} : { options: options as RunnerOptions }),
  };
}

function loadError(message: string, cause?: unknown): StreamrunError {
  return new StreamrunError('TOPOLOGY_LOAD', message, { cause });
}
