import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register as registerCjs } from 'tsx/cjs/api';
import { register as registerEsm } from 'tsx/esm/api';
import * as streamrun from '../lib/index.ts';
import * as testing from '../lib/testing/index.ts';

let registered = false;

/**
 * Loads a user's topology module, TypeScript (.ts, .mts, .cts) or JavaScript (.js, .mjs, .cjs),
 * in an ESM or a CommonJS project, and returns its exports as an ES module's namespace would.
 * ESM files are imported through tsx's ESM hooks; CommonJS ones (.cts, .cjs, or .ts/.js where
 * the nearest package.json has no "type": "module") are required through tsx's CommonJS hooks.
 * Importing a CommonJS .cts instead fails inside Node ("... is not in cache"), and lets tsx's
 * hooks compile a second copy of streamrun for its `require('streamrun')`.
 */
export async function importTopologyFile(path: string): Promise<Record<string, unknown>> {
  if (!registered) {
    registered = true;
    registerEsm();
    registerCjs();
    shareThisStreamrun();
  }
  if (!isCommonJs(path)) return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  // Node's own require, with tsx's hooks registered globally: tsx's scoped `require` would
  // key its modules apart from the cache entries above.
  const exported: unknown = createRequire(import.meta.url)(path);
  // `module.exports = topology(...)` is the module's default export, as Node's import() would say.
  if (typeof exported !== 'object' || exported === null || !('default' in exported)) return { default: exported };
  return exported as Record<string, unknown>;
}

/**
 * A topology's `require('streamrun')` must get the very module this CLI runs (the runner checks
 * what the topology built with it, its serdes and errors included), not a copy that tsx's
 * CommonJS hooks compile from the same file: the require cache is given this CLI's own modules,
 * under the paths `require('streamrun')` and `require('streamrun/testing')` resolve to. (A
 * project with a streamrun of its own, apart from the CLI's, still gets that one.)
 */
function shareThisStreamrun(): void {
  // lib/index.ts beside bin/ in the repository, dist/lib/index.js beside dist/bin/ when built.
  const ext = extname(fileURLToPath(import.meta.url));
  for (const [file, exports] of [[`../lib/index${ext}`, streamrun], [`../lib/testing/index${ext}`, testing]] as const) {
    const filename = fileURLToPath(new URL(file, import.meta.url));
    const module = new Module(filename);
    module.filename = filename;
    module.loaded = true;
    module.exports = exports;
    createRequire(import.meta.url).cache[filename] = module;
  }
}

function isCommonJs(path: string): boolean {
  const ext = extname(path);
  if (ext === '.cts' || ext === '.cjs') return true;
  if (ext === '.mts' || ext === '.mjs') return false;
  return packageType(dirname(path)) !== 'module';
}

/** The "type" of the nearest package.json above `dir`, as Node decides what a .js file is. */
function packageType(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    try {
      const pkg = JSON.parse(readFileSync(join(at, 'package.json'), 'utf8')) as { type?: unknown };
      return typeof pkg.type === 'string' ? pkg.type : undefined;
    } catch {
      // No package.json here (or not one Node could read either): the folder above.
    }
    if (dirname(at) === at) return undefined;
  }
}
