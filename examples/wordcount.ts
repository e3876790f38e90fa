import { serdes, topology } from 'streamrun';

/**
 * The classic: counts the lowercase words of the lines in `text-lines` and writes every new
 * count to `word-counts` (key: the word, value: the count as a JSON number).
 */
export default topology('wordcount')
  .stream('text-lines', { key: serdes.string, value: serdes.string })
  .flatMapValues((line) => line.toLowerCase().split(/[^\p{L}\p{N}']+/u).filter((word) => word !== ''))
  .map((word) => ({ key: word, value: word }))
  .groupByKey({ key: serdes.string })
  .count({ name: 'counts' })
  .toStream()
  .to('word-counts', { key: serdes.string, value: serdes.json<number>() });
