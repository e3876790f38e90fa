import type { InputRecord, OutputRecord } from '../kafka/client.ts';
import type { StreamrunError } from './streamrun-error.ts';

/** The headers a dead-letter record carries next to the original key and value bytes. */
export const deadLetterHeaders = {
  topic: 'streamrun.original.topic',
  partition: 'streamrun.original.partition',
  offset: 'streamrun.original.offset',
  timestamp: 'streamrun.original.timestamp',
  node: 'streamrun.node',
  attempts: 'streamrun.attempts',
  errorClass: 'streamrun.error.class',
  errorMessage: 'streamrun.error.message',
  errorStack: 'streamrun.error.stack',
  appId: 'streamrun.app.id',
  deadLetteredAt: 'streamrun.dead.lettered.at',
  /** For a late record: the newest window it belonged to (`<start>,<end>` in ms) and the stream time that had closed it. */
  window: 'streamrun.window',
  streamTime: 'streamrun.stream.time',
} as const;

/** Long enough for the frames that matter, short enough that a storm of dead letters stays small: bytes of UTF-8. */
export const maxStackLength = 4096;

/** The longest start of `text` that takes at most `bytes` bytes in UTF-8, without splitting a character. */
function cutToBytes(text: string, bytes: number): string {
  const encoded = Buffer.from(text, 'utf8');
  if (encoded.length <= bytes) return text;
  let end = bytes;
  // Back off continuation bytes (10xxxxxx) to the start of the character that did not fit.
  while (end > 0 && (encoded[end]! & 0xc0) === 0x80) end--;
  return encoded.subarray(0, end).toString('utf8');
}

export interface DeadLetterSource {
  readonly topic: string;
  readonly partition: number;
  readonly record: InputRecord;
}

/**
 * The record as it came (key, value and its own headers) plus why it failed: what a person or
 * `streamrun dlq replay` needs to find, fix and send it again.
 */
export function deadLetterRecord(
  source: DeadLetterSource,
  failure: StreamrunError,
  attempts: number,
  appId: string,
  partition: number,
  now = Date.now(),
): OutputRecord {
  // The innermost error (the user's, the JSON parser's) tells more than our wrappers around it.
  let cause: Error = failure;
  while (cause.cause instanceof Error) cause = cause.cause;
  const h = deadLetterHeaders;
  return {
    partition,
    key: source.record.key,
    value: source.record.value,
    timestamp: source.record.timestamp,
    headers: {
      ...source.record.headers,
      [h.topic]: source.topic,
      [h.partition]: String(source.partition),
      [h.offset]: source.record.offset,
      [h.timestamp]: source.record.timestamp,
      [h.node]: failure.context.node ?? '',
      [h.attempts]: String(attempts),
      // The class, which `name` does not always say (pg's DatabaseError calls itself 'error').
      [h.errorClass]: cause.constructor.name || cause.name,
      [h.errorMessage]: cause.message,
      [h.errorStack]: cutToBytes(cause.stack ?? '', maxStackLength),
      [h.appId]: appId,
      [h.deadLetteredAt]: String(now),
    },
  };
}
