import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait.ts';

const exec = promisify(execFile);

export interface Packed {
  readonly tarball: string;
  readonly files: readonly string[];
  readonly size: number;
}

/** `npm pack` of the repository (its prepack builds dist/) into a temp dir outside it. */
export async function packRepository(): Promise<Packed> {
  const dir = await mkdtemp(join(tmpdir(), 'streamrun-pack-'));
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  // npm prints the build's output before the JSON report.
  const [report] = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as { filename: string; size: number; files: { path: string }[] }[];
  return { tarball: join(dir, report!.filename), files: report!.files.map((f) => f.path), size: report!.size };
}

/** A fresh project outside the repository, as `npm init -y` makes it (CommonJS) unless `type` says. */
export async function makeProject(name: string, files: Readonly<Record<string, string>>, type?: 'module'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `streamrun-${name}-`));
  const pkg = { name, version: '1.0.0', private: true, ...(type === undefined ? {} : { type }) };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

/** Runs a command to its end in `cwd`; throws with its output when it fails. */
export async function run(cwd: string, command: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await exec(command, [...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
}

/** `npm install` as a user would, without the audit and funding chatter. */
export const npmInstall = (cwd: string, packages: readonly string[]) => run(cwd, 'npm', ['install', '--no-audit', '--no-fund', ...packages]);

export interface Started {
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM to the process and its children (npx's child too); resolves once all of them are gone. */
  stop(): Promise<number | string>;
}

/** Starts a long-running command in its own process group, so that stopping it reaches npx's child. */
export function start(cwd: string, command: string, args: readonly string[], env: Record<string, string>): Started {
  const child = spawn(command, [...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const group = -child.pid!;
  return {
    child,
    output: () => output,
    async stop() {
      try {
        process.kill(group, 'SIGTERM');
      } catch {
        // Already gone.
      }
      const code = await exited;
      await waitFor('the process group to exit', () => !alive(group), { timeoutMs: 60_000 });
      return code;
    },
  };
}

function alive(group: number): boolean {
  try {
    process.kill(group, 0);
    return true;
  } catch {
    return false;
  }
}
