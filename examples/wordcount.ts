import { serdes, topology } from 'streamrun';

/** Splits each line of `text-lines` into lowercase words and writes each word to `words`, keyed by itself. */
export default topology('wordcount')
  .stream('text-lines', { key: serdes.string, value: serdes.string })
  .flatMapValues((line) => line.toLowerCase().split(/[^\p{L}\p{N}']+/u).filter((word) => word !== ''))
  .map((word) => ({ key: word, value: word }))
  .to('words', { key: serdes.string, value: serdes.string });
