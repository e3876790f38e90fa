/**
 * Turns values of type `T` into bytes and back. The runtime never hands a serde `null`:
 * a record without a key (or value) passes through as `null` untouched.
 *
 * @example
 * const upper: Serde<string> = {
 *   name: 'upper',
 *   serialize: (s) => Buffer.from(s.toUpperCase()),
 *   deserialize: (b) => b.toString('utf8'),
 * };
 */
export interface Serde<T> {
  /** Shown by `describe()`. */
  readonly name: string;
  serialize(value: T): Buffer;
  /** Throws when the bytes are not a valid `T`; the runtime counts and reports the record. */
  deserialize(data: Buffer): T;
}

/** The key and value serdes of a topic. */
export interface Serdes<K, V> {
  key: Serde<K>;
  value: Serde<V>;
}
