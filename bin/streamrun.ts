#!/usr/bin/env node
// The installed CLI (dist/bin/streamrun.js): compiled JavaScript, run by `node` directly so
// that SIGTERM reaches the runner. It loads users' TypeScript topologies through tsx
// (bin/topology-loaders.ts), not itself.
import { main } from './cli.ts';

process.exit(await main(process.argv));
