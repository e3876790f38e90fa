#!/usr/bin/env node
// The repository's own CLI, on the TypeScript sources without a build: plain JavaScript so it
// runs before any loader. It teaches Node to import TypeScript (tsx) and to resolve `streamrun`
// to lib/*.ts (the `streamrun-source` export condition, as `node --conditions` would; needed by
// topologies here that import 'streamrun'), then runs the same entry as the built one.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

const addSourceCondition = `export function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, 'streamrun-source'] });
}`;
register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
registerTsx();
await import('./streamrun.ts');
