import { readFileSync } from 'node:fs';

/**
 * streamrun's own package.json. Found by walking up from this file, since it sits one folder
 * above bin/ in the repository and two above dist/bin/ in the installed package.
 */
export function streamrunPackage(): { readonly name: string; readonly version: string } {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'streamrun' && typeof pkg.version === 'string') return { name: pkg.name, version: pkg.version };
    } catch {
      // Not there (or not ours): one folder further up.
    }
  }
  throw new Error('cannot find the package.json of streamrun');
}
