#!/usr/bin/env node
// The `streamrun` command. Installed from npm, it runs the build (dist/bin/streamrun.js). In
// the repository (lib/*.ts beside it) it runs the TypeScript sources without a build: plain
// JavaScript so it runs before any loader, it teaches Node to import TypeScript (tsx) and to
// resolve `streamrun` to lib/*.ts (the `streamrun-source` export condition, as
// `node --conditions` would, for the topologies here that import 'streamrun'), then runs the
// same entry as the build. Either way one process: signals reach the runner.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

if (existsSync(new URL('../lib/index.ts', import.meta.url))) {
  const addSourceCondition = `export function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, 'streamrun-source'] });
}`;
  register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  await import('./streamrun.ts');
} else {
  await import('../dist/bin/streamrun.js');
}
