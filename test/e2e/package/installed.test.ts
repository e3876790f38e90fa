import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.ts';
import { brokers, createTopic, produceWithKcat, readAllSettled, uniqueName } from '../helpers/kafka.ts';
import { makeProject, npmInstall, packRepository, run, start, type Packed } from './projects.ts';
import { cjsApp, cjsDriver, cjsTopology, esmApp, esmDriver, esmTopology, nodenextTsconfig } from './sources.ts';

// streamrun as users get it: packed once, installed from the tarball into projects outside the
// repository (their other dependencies from the npm registry), run with their own tools.
let packed: Packed;
let esm: string;
let cjs: string;
const made: string[] = [];

beforeAll(async () => {
  packed = await packRepository();
  made.push(join(packed.tarball, '..'));
  esm = await makeProject(
    'esm-app',
    {
      'app.mjs': esmApp('app.mjs', false),
      'src/app.ts': esmApp('tsc', true),
      'tsconfig.json': nodenextTsconfig,
      'topology.mts': esmTopology('mts', true),
      'driver.mjs': esmDriver,
      'broken.mts': "import { topology } from 'streamrun';\n\nexport default topology('x'.;\n",
    },
    'module',
  );
  cjs = await makeProject('cjs-app', {
    'app.js': cjsApp('require'),
    'topology.ts': esmTopology('ts in commonjs', true),
    'topology.cts': esmTopology('cts', true),
    'topology.js': cjsTopology('js'),
    'driver.js': cjsDriver,
    'broken.cts': "import { topology } from 'streamrun';\n\nexport default topology('x'.;\n",
  });
  made.push(esm, cjs);
  // The ESM project also compiles TypeScript against the package's .d.ts: Node's types with it.
  await Promise.all([npmInstall(esm, [packed.tarball, '@types/node@20']), npmInstall(cjs, [packed.tarball])]);
});

afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

/**
 * Starts `command` in `cwd` against the run's broker with topics of its own, feeds it two
 * records with kcat and expects exactly their upper-cased, `tag`ged twins; then stops it with
 * SIGTERM and expects it (and npx's child) gone after a drain.
 */
async function runsTopology(cwd: string, command: string, args: readonly string[], tag: string): Promise<string> {
  const [input, output, appId] = [uniqueName('pkg-input'), uniqueName('pkg-output'), uniqueName('pkg-app')];
  await createTopic(input, 2);
  await produceWithKcat(input, [
    { key: 'a', value: 'hello' },
    { key: 'b', value: 'packaged world' },
  ]);
  const app = start(cwd, command, args, { KAFKA_BROKERS: brokers(), INPUT_TOPIC: input, OUTPUT_TOPIC: output, APP_ID: appId });
  let stopped = false;
  try {
    const records = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(records.map((r) => [r.key, r.value]).sort()).toEqual([
      ['a', `HELLO (${tag})`],
      ['b', `PACKAGED WORLD (${tag})`],
    ]);
    const code = await app.stop();
    stopped = true;
    return `${code}\n${app.output()}`;
  } finally {
    if (!stopped) await app.stop();
  }
}

describe('the npm package', () => {
  it('holds the build and the README, no sources of tests, benchmarks or CI', () => {
    expect(packed.files.filter((f) => /^(test|bench|\.ci|docs|examples|topologies|lib)\//.test(f))).toEqual([]);
    expect(packed.files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    // bin/streamrun.js is the command, which runs dist/bin/streamrun.js when there is no lib/*.ts.
    expect(packed.files.filter((f) => !f.startsWith('dist/lib/') && !f.startsWith('dist/bin/')).sort()).toEqual(['README.md', 'bin/streamrun.js', 'package.json']);
    for (const file of [
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/lib/testing/index.js',
      'dist/lib/testing/index.d.ts',
      'dist/bin/streamrun.js',
      'dist/lib/server/dashboard/dashboard.html',
      'dist/lib/server/dashboard/dashboard.js',
    ]) {
      expect(packed.files).toContain(file);
    }
  });

  it('runs an ESM JavaScript app with plain node', async () => {
    const result = await runsTopology(esm, process.execPath, ['app.mjs'], 'app.mjs');
    expect(result.split('\n')[0]).toBe('0');
  });

  it('compiles a TypeScript project with tsc (module nodenext, its .d.ts checked) and runs the build with node', async () => {
    await run(esm, process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', '.']);
    expect(await readdir(join(esm, 'dist'))).toEqual(['app.js']);
    const result = await runsTopology(esm, process.execPath, ['dist/app.js'], 'tsc');
    expect(result.split('\n')[0]).toBe('0');
  });

  it("runs a CommonJS app that uses require('streamrun')", async () => {
    const result = await runsTopology(cjs, process.execPath, ['app.js'], 'require');
    expect(result.split('\n')[0]).toBe('0');
  });

  it('runs `npx streamrun start topology.ts` in a CommonJS project', async () => {
    const result = await runsTopology(cjs, 'npx', ['streamrun', 'start', 'topology.ts'], 'ts in commonjs');
    // npx may leave before its child: what counts is that the CLI drained and stopped.
    expect(result).toMatch(/pkg-app-\w+ stopped/);
  });

  it.each([
    ['cts', 'cjs', 'topology.cts'],
    ['js', 'cjs', 'topology.js'],
    ['mts', 'esm', 'topology.mts'],
  ] as const)('runs a .%s topology with the installed CLI', async (tag, project, file) => {
    const cwd = project === 'cjs' ? cjs : esm;
    const result = await runsTopology(cwd, process.execPath, ['node_modules/streamrun/dist/bin/streamrun.js', 'start', file], tag);
    expect(result.split('\n')[0]).toBe('0');
  });

  it.each([
    ['cts', 'cjs'],
    ['mts', 'esm'],
  ] as const)('says in one line where a .%s topology has a syntax error (tsx names the file .ts to esbuild)', async (ext, project) => {
    const failed = await promisify(execFile)(process.execPath, ['node_modules/.bin/streamrun', 'describe', `broken.${ext}`], { cwd: project === 'cjs' ? cjs : esm }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(failed).toEqual({ code: 1, stderr: `streamrun: broken.${ext}:3:29: Expected identifier but found ";"\n` });
  });

  it('gives streamrun/testing to ESM and CommonJS callers', async () => {
    const expected = `${JSON.stringify([['k', 'HELLO', 1000]])}\n`;
    expect(await run(esm, process.execPath, ['driver.mjs'])).toBe(expected);
    expect(await run(cjs, process.execPath, ['driver.js'])).toBe(expected);
  });
});

describe('streamrun init', () => {
  it('makes a project whose own npm test passes with the installed package', async () => {
    const dir = join(await makeProject('init-parent', {}), 'my-app');
    made.push(join(dir, '..'));
    const cli = join(cjs, 'node_modules/.bin/streamrun');
    const said = await run(cjs, cli, ['init', dir, '--streamrun', packed.tarball]);
    expect(said).toBe(`made 6 files in ${dir}; next: cd ${dir} && npm install && npm test\n`);
    expect((await readdir(dir, { recursive: true })).sort()).toEqual(
      ['.gitignore', 'README.md', 'package.json', 'src', 'src/wordcount.ts', 'test', 'test/wordcount.test.ts', 'tsconfig.json'].sort(),
    );
    await npmInstall(dir, []);
    // vitest colours its report when the run around it does.
    const report = (await run(dir, 'npm', ['test'])).replace(/\x1b\[[0-9;]*m/g, '');
    expect(report).toMatch(/Tests\s+1 passed \(1\)/);
    await run(dir, 'npx', ['tsc', '--noEmit']);

    // A second time, into what is no longer empty: one line, exit code 1, nothing overwritten.
    const again = await promisify(execFile)(cli, ['init', dir], { cwd: tmpdir() }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(again).toEqual({ code: 1, stderr: `streamrun: init: ${dir} is not empty (8 entries); give a new or empty directory\n` });
  });
});
