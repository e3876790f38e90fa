import { serdes, topology } from 'streamrun';

// Names from the environment, these by default: several copies can share a broker.
const env = (name: string, otherwise: string) => process.env[name] || otherwise;
export const topics = { input: env('INPUT_TOPIC', 'text-lines'), output: env('OUTPUT_TOPIC', 'word-counts') };

/**
 * The classic: counts the lowercase words of the lines in `text-lines` and writes every new
 * count to `word-counts` (key: the word, value: the count as a JSON number).
 */
export default topology(env('APP_ID', 'wordcount'))
  .stream(topics.input, { key: serdes.string, value: serdes.string })
  .flatMapValues((line) => line.toLowerCase().split(/[^\p{L}\p{N}']+/u).filter((word) => word !== ''))
  .map((word) => ({ key: word, value: word }))
  .groupByKey({ key: serdes.string })
  .count({ name: 'counts' })
  .toStream()
  .to(topics.output, { key: serdes.string, value: serdes.json<number>() });
