import { serdes, topology } from 'streamrun';

/** Reads `input`, writes every value upper-cased to `output`, keys unchanged. */
export default topology('uppercase')
  .stream('input', { key: serdes.string, value: serdes.string })
  .mapValues((value) => value.toUpperCase())
  .to('output');
