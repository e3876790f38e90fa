/**
 * The bytes of Kafka's consumer protocol (the `consumer` protocol type): what a member
 * subscribes to, sent with JoinGroup, and what the leader assigns it, sent with SyncGroup. Both
 * clients speak it, so members on KafkaJS and on @kafkats/client can share one group.
 *
 *   Subscription: int16 version, [string topic], bytes userData
 *   Assignment:   int16 version, [string topic, [int32 partition]], bytes userData
 *
 * Later versions append fields (owned partitions, generation, rack) that this protocol, a
 * version-1 one like KafkaJS's, neither writes nor needs: a reader stops where it has read enough.
 */

export interface Subscription {
  readonly topics: readonly string[];
  readonly userData: Buffer;
}

export interface MemberAssignment {
  readonly assignment: Readonly<Record<string, readonly number[]>>;
  readonly userData: Buffer;
}

const VERSION = 1;

export function encodeSubscription({ topics, userData }: Subscription): Buffer {
  const writer = new Writer();
  writer.int16(VERSION);
  writer.int32(topics.length);
  for (const topic of topics) writer.string(topic);
  writer.bytes(userData);
  return writer.done();
}

export function decodeSubscription(bytes: Buffer): Subscription {
  const reader = new Reader(bytes);
  reader.int16();
  const topics = reader.array(() => reader.string());
  return { topics, userData: reader.bytes() };
}

export function encodeAssignment({ assignment, userData }: MemberAssignment): Buffer {
  const writer = new Writer();
  writer.int16(VERSION);
  const topics = Object.entries(assignment);
  writer.int32(topics.length);
  for (const [topic, partitions] of topics) {
    writer.string(topic);
    writer.int32(partitions.length);
    for (const p of partitions) writer.int32(p);
  }
  writer.bytes(userData);
  return writer.done();
}

/** An empty buffer (a member the leader gave nothing, or one still joining) assigns nothing. */
export function decodeAssignment(bytes: Buffer): MemberAssignment {
  if (bytes.length === 0) return { assignment: {}, userData: Buffer.alloc(0) };
  const reader = new Reader(bytes);
  reader.int16();
  const assignment: Record<string, number[]> = {};
  for (const [topic, partitions] of reader.array(() => [reader.string(), reader.array(() => reader.int32())] as const)) {
    assignment[topic] = partitions;
  }
  return { assignment, userData: reader.bytes() };
}

class Writer {
  readonly #parts: Buffer[] = [];

  int16(value: number): void {
    const b = Buffer.alloc(2);
    b.writeInt16BE(value);
    this.#parts.push(b);
  }

  int32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    this.#parts.push(b);
  }

  string(value: string): void {
    const text = Buffer.from(value, 'utf8');
    this.int16(text.length);
    this.#parts.push(text);
  }

  bytes(value: Buffer): void {
    this.int32(value.length);
    this.#parts.push(value);
  }

  done(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

class Reader {
  #at = 0;
  constructor(readonly buffer: Buffer) {}

  #take(n: number): number {
    if (this.#at + n > this.buffer.length) throw new RangeError(`consumer protocol: ${n} more bytes wanted at ${this.#at} of ${this.buffer.length}`);
    const at = this.#at;
    this.#at += n;
    return at;
  }

  int16(): number {
    return this.buffer.readInt16BE(this.#take(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.#take(4));
  }

  string(): string {
    const length = this.int16();
    const at = this.#take(length);
    return this.buffer.toString('utf8', at, at + length);
  }

  /** Null bytes (length -1) read as empty. */
  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) return Buffer.alloc(0);
    const at = this.#take(length);
    return this.buffer.subarray(at, at + length);
  }

  array<T>(item: () => T): T[] {
    const n = this.int32();
    const items: T[] = [];
    for (let i = 0; i < n; i++) items.push(item());
    return items;
  }
}
