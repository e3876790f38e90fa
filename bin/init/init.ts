import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { streamrunPackage } from '../package-info.ts';
import { projectFiles } from './templates.ts';

/** `streamrun init <dir>`: a new project with a topology and its test, ready for `npm install`. */
export function addInitCommand(program: Command): void {
  program
    .command('init')
    .description('make a new project: package.json, tsconfig.json, a topology and its test with the TopologyTestDriver')
    .argument('<dir>', 'where to make it: a new or empty directory')
    .option('--streamrun <spec>', "what package.json's dependency on streamrun says (default: this CLI's version, ^x.y.z)")
    .action(async (dir: string, flags: { streamrun?: string }) => {
      const written = await init(dir, flags.streamrun ?? `^${streamrunPackage().version}`);
      process.stdout.write(`made ${written.length} files in ${dir}; next: cd ${dir} && npm install && npm test\n`);
    });
}

/**
 * Writes the project into `dir` (made if missing) and returns the paths written; refuses a
 * directory with anything in it, since overwriting a user's files is never what they meant.
 */
export async function init(dir: string, streamrunSpec: string): Promise<string[]> {
  const root = resolve(dir);
  const present = await readdir(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw new Error(`init: cannot read ${dir}: ${error.message}`, { cause: error });
  });
  if (present.length > 0) {
    throw new Error(`init: ${dir} is not empty (${present.length} entries); give a new or empty directory`);
  }
  const files = projectFiles(packageName(root), streamrunSpec);
  for (const [path, text] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text, { flag: 'wx' });
  }
  return [...files.keys()];
}

/** npm's rules for a name: lowercase, no spaces, URL-safe. */
function packageName(root: string): string {
  const name = basename(root).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '');
  return name === '' ? 'streamrun-app' : name;
}
