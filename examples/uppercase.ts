import { serdes, topology } from 'streamrun';

// Names from the environment, these by default: several copies can share a broker.
const env = (name: string, otherwise: string) => process.env[name] || otherwise;
export const topics = { input: env('INPUT_TOPIC', 'input'), output: env('OUTPUT_TOPIC', 'output') };

/** Reads `input`, writes every value upper-cased to `output`, keys unchanged. */
export default topology(env('APP_ID', 'uppercase'))
  .stream(topics.input, { key: serdes.string, value: serdes.string })
  .mapValues((value) => value.toUpperCase())
  .to(topics.output);
