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
  /**
   * Fetches what `serialize` and `deserialize` need before the first record (a schema's id, say):
   * the runner awaits it at start, before it joins the group, and the test driver before its
   * first pipe. A rejection stops the start with its error.
   */
  open?(): Promise<void>;
  /**
   * A promise when `deserialize(data)` needs something fetched first (a schema the serde has not
   * seen yet), else `undefined`: the runtime awaits it before the record is processed. It
   * resolves also when the thing is not to be had; `deserialize` then throws, and the record goes
   * the way of any unreadable one.
   */
  prepare?(data: Buffer): Promise<void> | undefined;
}

/** The key and value serdes of a topic. */
export interface Serdes<K, V> {
  key: Serde<K>;
  value: Serde<V>;
}
