#!/usr/bin/env node
// Plain JavaScript so it runs before any loader: it teaches Node to import TypeScript (tsx),
// then hands over to the CLI, which loads the user's topology file the same way.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exit(await main(process.argv));
