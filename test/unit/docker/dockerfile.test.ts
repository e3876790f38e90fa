import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDockerfile, type Stage } from './dockerfile.ts';

// No Docker engine on the CI machine: the image is never built there. These check what a build
// would trip over, and what the image must do once built (non-root, signals reach node).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const stages = parseDockerfile(join(root, 'Dockerfile'));
const [build, runtime] = stages as [Stage, Stage];
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);

describe('Dockerfile', () => {
  it('builds in one stage and runs from another, on the same Node major as engines allows', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(stages.map((s) => s.image)).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
  });

  it('installs everything and builds in the build stage, only production dependencies in the runtime stage', () => {
    const buildRuns = of(build, 'RUN').map((i) => i.args.join(' '));
    expect(buildRuns.some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(buildRuns.some((r) => r.includes('npm run build'))).toBe(true);
    expect(pkg.scripts['build']).toContain('tsc -p tsconfig.build.json');
    const runtimeRuns = of(runtime, 'RUN').map((i) => i.args.join(' '));
    expect(runtimeRuns.filter((r) => /\bnpm ci\b/.test(r)).every((r) => r.includes('--omit=dev'))).toBe(true);
    expect(runtimeRuns.some((r) => r.includes('npm ci --omit=dev'))).toBe(true);
  });

  it('copies files that exist and that .dockerignore lets through; the runtime takes dist/ from the build stage', () => {
    for (const stage of stages) {
      for (const copy of of(stage, 'COPY')) {
        const sources = copy.args.slice(0, -1);
        if (copy.flags['from'] !== undefined) {
          expect(stages.slice(0, stages.indexOf(stage)).map((s) => s.name), copy.text).toContain(copy.flags['from']);
          continue;
        }
        for (const source of sources) {
          expect(existsSync(join(root, source)), `${copy.text}: ${source}`).toBe(true);
          expect(ignored, `${copy.text}: ${source} is in .dockerignore`).not.toContain(source);
        }
      }
    }
    expect(of(runtime, 'COPY').map((c) => [c.flags['from'], c.args.join(' ')])).toContainEqual(['build', '/app/dist dist']);
    // Every build input the build stage copies is what tsconfig.build.json compiles.
    const built = readFileSync(join(root, 'tsconfig.build.json'), 'utf8');
    for (const dir of ['lib', 'bin', 'topologies']) expect(built).toContain(`"${dir}"`);
  });

  it('runs as the unprivileged node user, set before the entrypoint', () => {
    const users = of(runtime, 'USER').map((i) => i.args[0]);
    expect(users).toEqual(['node']);
    const order = runtime.instructions.map((i) => i.keyword);
    expect(order.indexOf('USER')).toBeLessThan(order.indexOf('ENTRYPOINT'));
  });

  it('runs node on the built CLI directly (exec form: no npx, no shell)', () => {
    const [entrypoint] = of(runtime, 'ENTRYPOINT');
    expect(entrypoint?.exec).toBe(true);
    expect(entrypoint?.args).toEqual(['node', 'dist/bin/streamrun.js']);
    // Built from bin/streamrun.ts (tsconfig.build.json emits bin/*.ts to dist/bin/*.js), what
    // package.json's bin, bin/streamrun.js, runs once installed: the image skips that hop.
    expect(existsSync(join(root, 'bin/streamrun.ts'))).toBe(true);
    expect(pkg.bin['streamrun']).toBe('./bin/streamrun.js');
    expect(readFileSync(join(root, 'bin/streamrun.js'), 'utf8')).toContain("await import('../dist/bin/streamrun.js')");
  });

  it('starts the bundled event pipeline, built from topologies/events.ts, on the port it exposes', () => {
    const [cmd] = of(runtime, 'CMD');
    expect(cmd?.exec).toBe(true);
    const [command, file, ...flags] = cmd!.args;
    expect(command).toBe('start');
    expect(file).toBe('dist/topologies/events.js');
    expect(existsSync(join(root, 'topologies/events.ts'))).toBe(true);
    const port = flags[flags.indexOf('--port') + 1];
    expect(of(runtime, 'EXPOSE').flatMap((i) => i.args)).toEqual([port]);
    // Bound to every interface: 127.0.0.1 inside a container is unreachable from outside it.
    expect(flags[flags.indexOf('--host') + 1]).toBe('0.0.0.0');
    expect(of(runtime, 'VOLUME').flatMap((i) => i.args)).toEqual([flags[flags.indexOf('--state-dir') + 1]]);
  });

  it('keeps local installs, builds and tests out of the build context', () => {
    for (const entry of ['node_modules', 'dist', 'test', '.git']) expect(ignored).toContain(entry);
  });
});
