import { execFile } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** bench/java: the Kafka Streams twin's Maven project (see its pom.xml). */
const projectDir = fileURLToPath(new URL('../java/', import.meta.url));
const targetDir = join(projectDir, 'target');
const jar = join(targetDir, 'streams-bench.jar');
const libDir = join(targetDir, 'lib');
/** Written here after a whole `mvn package`, so a build cut short (jar made, jars half copied) is redone. */
const builtMarker = join(targetDir, '.streams-bench-built');
const mainClass = 'streamrun.bench.StreamsBench';

let building: Promise<void> | undefined;

/**
 * Builds the twin once (mvn -q package, skipped when the jar is newer than pom.xml and the sources),
 * returns the command to run it.
 *
 * The command is `java -cp <jar>:<lib>/* streamrun.bench.StreamsBench <mode>` with absolute paths, so
 * it runs from any directory; the JVM expands `<lib>/*` itself. It takes the processor environment of
 * events.ts, plus BENCH_THREADS (stream threads, default 1).
 *
 * @example
 * const { command, args } = await javaTwinCommand('windowed', console.log);
 * startProcessor(command, args, env, /^ready$/m);
 */
export async function javaTwinCommand(
  mode: 'stateless' | 'windowed' | 'catch-up',
  log: (line: string) => void,
): Promise<{ command: string; args: string[] }> {
  building ??= build(log).catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  await building;
  const javaHome = process.env['JAVA_HOME'];
  return {
    command: javaHome ? join(javaHome, 'bin', 'java') : 'java',
    args: ['-cp', `${jar}${delimiter}${join(libDir, '*')}`, mainClass, mode],
  };
}

async function build(log: (line: string) => void): Promise<void> {
  const built = await mtime(builtMarker);
  if (built !== undefined && (await mtime(jar)) !== undefined && built >= (await newestInput())) {
    log('Kafka Streams twin: up to date (bench/java/target)');
    return;
  }
  log('Kafka Streams twin: building bench/java with Maven (a first build downloads about 130 MB of jars)');
  const started = performance.now();
  try {
    await promisify(execFile)('mvn', ['-q', '-B', 'package'], { cwd: projectDir, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error('Kafka Streams twin: Maven (mvn) and JDK 17+ are needed to build bench/java', { cause: error });
    }
    const output = `${failure.stdout ?? ''}${failure.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`Kafka Streams twin: mvn package failed in ${projectDir}:\n${output}`, { cause: error });
  }
  await writeFile(builtMarker, `${new Date().toISOString()}\n`);
  log(`Kafka Streams twin: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** The latest modification time among pom.xml and everything under src/. */
async function newestInput(): Promise<number> {
  let newest = (await mtime(join(projectDir, 'pom.xml'))) ?? Infinity;
  const src = join(projectDir, 'src');
  for (const path of await readdir(src, { recursive: true })) {
    const time = await mtime(join(src, path));
    if (time !== undefined && time > newest) newest = time;
  }
  return newest;
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}
