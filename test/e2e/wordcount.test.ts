import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { brokers, createTopic, produce, readAll, uniqueName } from './helpers/kafka.ts';

describe('examples/wordcount.ts through the CLI', () => {
  it('writes each lowercase word of each line to words, keyed by the word', async () => {
    await createTopic('text-lines', 2);
    const text = ['The quick brown fox', "jumps over the lazy dog's back", '', 'THE END, the end!', 'Ça va? Ça va.'];
    await produce('text-lines', text.map((line, i) => ({ key: `line-${i}`, value: line })));
    const expected = text.flatMap((line) => line.toLowerCase().split(/[^\p{L}\p{N}']+/u).filter(Boolean));
    expect(expected).toHaveLength(18);

    const run = runCli(['start', 'examples/wordcount.ts', '--brokers', brokers(), '--app-id', uniqueName('wordcount')]);
    try {
      const words = await readAll('words', expected.length);
      expect(words.map((r) => r.value).sort()).toEqual([...expected].sort());
      for (const r of words) expect(r.key).toBe(r.value);
    } finally {
      // Ctrl-C drains and exits cleanly too.
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
      expect(run.stderr()).toMatch(/received SIGINT/);
    }
  });
});
