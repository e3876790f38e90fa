import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './helpers/cli.ts';

/**
 * Each failure is one clear line on stderr and a non-zero exit (2 for a command line that cannot
 * run as given, 1 for the rest); never a stack dump, never the usage text.
 */
async function failsWith(args: string[], message: RegExp, code = 1): Promise<void> {
  const run = runCli(args);
  expect(await run.exited).toBe(code);
  const lines = run.stderr().trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(run.stderr()).not.toMatch(/\n\s+at /);
}

// Inside the repository, so the files resolve `import 'streamrun'` as a user's files would.
const scratch = join(repoRoot, '.scratch');

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function scratchFile(name: string, text: string): Promise<string> {
  await mkdir(scratch, { recursive: true });
  const dir = await mkdtemp(join(scratch, 'cli-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return relative(repoRoot, path);
}

describe('streamrun CLI', () => {
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('describes a topology', async () => {
    const run = runCli(['describe', 'examples/uppercase.ts']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('Topology: uppercase');
    expect(run.stdout()).toMatch(/Source: source-0 \(topic: input/);
    expect(run.stdout()).toMatch(/Sink: sink-2 \(topic: output/);
  });

  it('describes a topology as JSON', async () => {
    const run = runCli(['describe', 'examples/wordcount.ts', '--json']);
    expect(await run.exited).toBe(0);
    const json = JSON.parse(run.stdout());
    expect(json.appId).toBe('wordcount');
  });

  it('names a missing file', async () => {
    await failsWith(['start', 'examples/nope.ts'], /^streamrun: cannot find topology file examples\/nope\.ts$/);
  });

  it('names a module without a topology', async () => {
    const file = await scratchFile('plain.ts', 'export const answer = 42;\n');
    await failsWith(['describe', file], new RegExp(`^streamrun: ${escape(file)} has no default export that is a topology$`));
  });

  it('points at the line and column of a syntax error, with its reason', async () => {
    const file = await scratchFile('broken.ts', "import { topology } from 'streamrun';\n\nexport default topology('x'.;\n");
    await failsWith(['describe', file], new RegExp(`^streamrun: ${escape(file)}:3:29: Expected identifier but found ";"$`));
  });

  it('the same in JavaScript, and in a module the topology imports', async () => {
    const js = await scratchFile('broken.mjs', "import { topology } from 'streamrun';\n\nexport default topology('x'.;\n");
    await failsWith(['describe', js], new RegExp(`^streamrun: ${escape(js)}:3:29: Expected identifier but found ";"$`));
    const helper = await scratchFile('helper.ts', 'export const n = (;\n');
    const importing = join(dirname(helper), 'uses-helper.ts');
    await writeFile(join(repoRoot, importing), "import { n } from './helper.ts';\nexport default n;\n");
    await failsWith(['describe', importing], new RegExp(`^streamrun: ${escape(helper)}:1:19: Unexpected ";"$`));
  });

  it.each([
    [['start', 'examples/uppercase.ts', '--port', 'abc'], 'streamrun: --port: expected a port from 0 to 65535, got "abc"'],
    [['start', 'examples/uppercase.ts', '--port', '65536'], 'streamrun: --port: expected a port from 0 to 65535, got "65536"'],
    [['start', 'examples/uppercase.ts', '--session-timeout', '1.5'], 'streamrun: --session-timeout: expected a positive integer, got "1.5"'],
    [['start', 'examples/uppercase.ts', '--client', 'rdkafka'], 'streamrun: --client: expected one of kafkajs, kafkats, got "rdkafka"'],
    [['start', 'examples/uppercase.ts', '--bogus'], "streamrun: unknown option '--bogus'"],
    [['start'], "streamrun: missing required argument 'file'"],
    [['strat', 'examples/uppercase.ts'], "streamrun: unknown command 'strat'"],
  ])('a bad command line %j is one line and exit 2, without the usage text', async (args, line) => {
    await failsWith(args, new RegExp(`^${escape(line)}$`), 2);
  });

  it('points at the line that threw while building the topology', async () => {
    const file = await scratchFile('throws.ts', "import { topology } from 'streamrun';\n\nexport default topology('not a valid id!');\n");
    await failsWith(['describe', file], new RegExp(`^streamrun: ${escape(file)}:3:\\d+: .*not a valid id`));
  });

  it('says when the broker cannot be reached', async () => {
    await failsWith(['start', 'examples/uppercase.ts', '--brokers', '127.0.0.1:1'], /^streamrun: cannot reach Kafka at 127\.0\.0\.1:1: /);
  });

  it('says when a broker takes connections but never answers, naming it', async () => {
    // A port that accepts and then stays silent, as a hung broker or a wrong port behind a proxy.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      await failsWith(['start', 'examples/uppercase.ts', '--brokers', address], new RegExp(`^streamrun: cannot reach Kafka at ${escape(address)}: `));
    } finally {
      silent.close();
    }
  });

  it('rejects a malformed broker list', async () => {
    await failsWith(['start', 'examples/uppercase.ts', '--brokers', 'nonsense'], /^streamrun: brokers: "nonsense" is not host:port$/);
  });
});
