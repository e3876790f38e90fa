/** The files `streamrun init` writes, by path. A word count: small, stateful, and testable. */
export function projectFiles(name: string, streamrunSpec: string): ReadonlyMap<string, string> {
  const packageJson = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      start: 'streamrun start src/wordcount.ts',
      test: 'vitest run',
      typecheck: 'tsc --noEmit',
      build: 'tsc',
    },
    dependencies: { streamrun: streamrunSpec },
    devDependencies: { typescript: '^5.9.0', vitest: '^4.0.0' },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      strict: true,
      verbatimModuleSyntax: true,
      // Imports name their .ts files, as Node and tsx run them; `npm run build` makes them .js.
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      skipLibCheck: true,
      outDir: 'dist',
    },
    include: ['src', 'test'],
  };
  return new Map([
    ['package.json', `${JSON.stringify(packageJson, null, 2)}\n`],
    ['tsconfig.json', `${JSON.stringify(tsconfig, null, 2)}\n`],
    ['.gitignore', 'node_modules/\ndist/\n.streamrun-state/\n'],
    ['src/wordcount.ts', wordcount],
    ['test/wordcount.test.ts', wordcountTest],
    ['README.md', readme(name)],
  ]);
}

const wordcount = `import { serdes, topology } from 'streamrun';

/**
 * Counts the words of the lines in \`text-lines\` and writes every new count to \`word-counts\`
 * (key: the word, value: the count as a JSON number).
 */
export default topology('wordcount')
  .stream('text-lines', { key: serdes.string, value: serdes.string })
  .flatMapValues((line) => line.toLowerCase().split(/[^\\p{L}\\p{N}']+/u).filter((word) => word !== ''))
  .map((word) => ({ key: word, value: word }))
  .groupByKey({ key: serdes.string })
  .count({ name: 'counts' })
  .toStream()
  .to('word-counts', { key: serdes.string, value: serdes.json<number>() });
`;

const wordcountTest = `import { TopologyTestDriver } from 'streamrun/testing';
import { afterEach, expect, it } from 'vitest';
import wordcount from '../src/wordcount.ts';

// The topology runs in memory, through the same code as with a broker: no Kafka needed.
let driver: TopologyTestDriver | undefined;
afterEach(() => driver?.close());

it('counts every word as lines come in', async () => {
  driver = new TopologyTestDriver(wordcount);
  const lines = driver.input<string, string>('text-lines');
  await lines.pipeInput('line-1', 'the quick brown fox', { timestamp: 1_000 });
  await lines.pipeInput('line-2', 'The lazy dog', { timestamp: 2_000 });

  const counts = driver.output<string, number>('word-counts');
  expect(counts.readOutputs().map((record) => [record.key, record.value])).toEqual([
    ['the', 1],
    ['quick', 1],
    ['brown', 1],
    ['fox', 1],
    ['the', 2],
    ['lazy', 1],
    ['dog', 1],
  ]);
  expect(await driver.store<string, number>('counts').get('the')).toBe(2);
});
`;

function readme(name: string): string {
  return `# ${name}

A [streamrun](https://www.npmjs.com/package/streamrun) topology: a word count.

    npm install
    npm test                     # runs src/wordcount.ts in streamrun's TopologyTestDriver, no broker
    KAFKA_BROKERS=localhost:9092 npm start
`;
}
