import { register as registerCjs } from 'tsx/cjs/api';
import { register as registerEsm } from 'tsx/esm/api';

let registered = false;

/**
 * Lets `import()` load a user's topology in TypeScript (.ts, .mts, .cts) or JavaScript, in an
 * ESM or a CommonJS project: tsx's ESM hooks for what is ESM, its CommonJS hooks for what the
 * nearest package.json (or .cts/.cjs) makes CommonJS, and its `require()`s of further .ts files.
 * Once per process, and only when a topology is loaded: `top` and `dlq` need none of it.
 */
export function registerTopologyLoaders(): void {
  if (registered) return;
  registered = true;
  registerEsm();
  registerCjs();
}
