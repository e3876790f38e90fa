import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { useCleanup } from './helpers/cleanup.ts';
import { brokers, createTopic, produce, readAllSettled, uniqueName, waitForLatest } from './helpers/kafka.ts';

describe('examples/wordcount.ts through the CLI', () => {
  const cleanup = useCleanup();
  it('counts the words of a known text: the last count per word is the true count, one output per update', async () => {
    const input = uniqueName('text-lines');
    const output = uniqueName('word-counts');
    const appId = uniqueName('wordcount');
    await createTopic(input, 2);
    const text = [
      'The quick brown fox',
      "jumps over the lazy dog's back",
      '',
      'THE END, the end!',
      'Ça va? Ça va.',
      'the fox, the dog and the end',
    ];
    await produce(input, text.map((line, i) => ({ key: `line-${i}`, value: line })));
    const words = text.flatMap((line) => line.toLowerCase().split(/[^\p{L}\p{N}']+/u).filter(Boolean));
    const truth = new Map<string, string>();
    for (const word of words) truth.set(word, String(Number(truth.get(word) ?? 0) + 1));
    expect(truth.get('the')).toBe('7');

    const run = runCli(['start', 'examples/wordcount.ts', '--brokers', brokers(), '--app-id', appId, '--state-dir', await cleanup.tempDir('streamrun-wordcount-')], { INPUT_TOPIC: input, OUTPUT_TOPIC: output });
    try {
      expect(await waitForLatest(output, truth)).toEqual(truth);
      // Every update is an output: each word's counts run 1, 2, … n, and nothing more comes.
      const outputs = await readAllSettled(output, { group: appId, inputs: [input, `${appId}-counts-repartition`] });
      expect(outputs).toHaveLength(words.length);
      for (const [word, n] of truth) {
        const counts = outputs.filter((r) => r.key === word).map((r) => Number(r.value));
        expect(counts).toEqual(Array.from({ length: Number(n) }, (_, i) => i + 1));
      }
    } finally {
      // Ctrl-C drains and exits cleanly too.
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
      expect(run.stderr()).toMatch(/received SIGINT/);
    }
  });
});
