import { SchemaType } from '@kafkajs/confluent-schema-registry';
import JsonSchemaModule from '@kafkajs/confluent-schema-registry/dist/JsonSchema.js';
import { messageOf } from '../errors/message-of.ts';
import { avroType } from '../serde/avro.ts';
import type { RegistrySchema, RegistrySchemaText, SchemaRegistryClient } from '../serde/schema-registry-client.ts';

// The library is CommonJS with a default export: under Node's ESM it arrives wrapped, and a
// bundler may unwrap it.
type JsonSchemaClass = typeof JsonSchemaModule.default;
const JsonSchema: JsonSchemaClass = 'default' in JsonSchemaModule ? JsonSchemaModule.default : (JsonSchemaModule as unknown as JsonSchemaClass);

/** An error as the registry client raises it: `status` is the HTTP status a registry would answer. */
class RegistryAnswer extends Error {
  override readonly name = 'RegistryAnswer';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface TestSchemaRegistryOptions {
  /**
   * `BACKWARD` (the default, as a registry's): an Avro schema is refused when it cannot read
   * what the subject's latest version wrote. `NONE`: every schema is taken. JSON Schemas are
   * never checked.
   */
  readonly compatibility?: 'BACKWARD' | 'NONE';
}

interface Stored {
  readonly type: RegistrySchemaText['type'];
  readonly text: string;
  readonly schema: RegistrySchema;
}

/**
 * A schema registry in memory, for users' unit tests with the `TopologyTestDriver`: pass it as
 * `registry` to `serdes.registry(...)`. Ids are given out from 1, one per distinct schema, as a
 * registry does; each subject keeps its versions in order. Avro schemas are checked for
 * backward compatibility. Integration tests should use a real registry.
 *
 * @example
 * const registry = new TestSchemaRegistry();
 * const orders = serdes.registry({ registry, subject: 'orders-value', schema: orderSchema });
 */
export class TestSchemaRegistry implements SchemaRegistryClient {
  readonly #compatibility: 'BACKWARD' | 'NONE';
  readonly #schemas: Stored[] = [];
  readonly #subjects = new Map<string, number[]>();

  constructor(options: TestSchemaRegistryOptions = {}) {
    this.#compatibility = options.compatibility ?? 'BACKWARD';
  }

  async register(schema: RegistrySchemaText, options: { subject: string }): Promise<{ id: number }> {
    const versions = this.#subjects.get(options.subject) ?? [];
    const existing = this.#find(schema);
    if (existing !== undefined && versions.includes(existing)) return { id: existing };
    const parsed = existing === undefined ? parse(schema) : this.#schemas[existing - 1]!.schema;
    const latest = versions.at(-1);
    if (latest !== undefined && this.#compatibility === 'BACKWARD' && schema.type === SchemaType.AVRO) {
      const previous = this.#schemas[latest - 1]!;
      try {
        avroType(schema.schema).createResolver(avroType(previous.text));
      } catch (error) {
        throw new RegistryAnswer(409, `Schema being registered is incompatible with an earlier schema for subject "${options.subject}": ${messageOf(error)}`);
      }
    }
    const id = existing ?? this.#schemas.push({ type: schema.type, text: schema.schema, schema: parsed });
    this.#subjects.set(options.subject, [...versions, id]);
    return { id };
  }

  async getRegistryIdBySchema(subject: string, schema: RegistrySchemaText): Promise<number> {
    const versions = this.#versions(subject);
    const id = this.#find(schema);
    if (id === undefined || !versions.includes(id)) throw new RegistryAnswer(404, `Schema not found under subject "${subject}"`);
    return id;
  }

  async getRegistryId(subject: string, version: number | string): Promise<number> {
    const versions = this.#versions(subject);
    const id = version === 'latest' ? versions.at(-1) : versions[Number(version) - 1];
    if (id === undefined) throw new RegistryAnswer(404, `Version ${version} not found under subject "${subject}"`);
    return id;
  }

  async getLatestSchemaId(subject: string): Promise<number> {
    return this.getRegistryId(subject, 'latest');
  }

  async getSchema(id: number): Promise<RegistrySchema> {
    const stored = this.#schemas[id - 1];
    if (stored === undefined) throw new RegistryAnswer(404, `Schema ${id} not found`);
    return stored.schema;
  }

  /** The subjects registered so far, in the order they first were. */
  subjects(): string[] {
    return [...this.#subjects.keys()];
  }

  /** The schema ids of a subject's versions, oldest first. */
  versions(subject: string): number[] {
    return [...(this.#subjects.get(subject) ?? [])];
  }

  #versions(subject: string): number[] {
    const versions = this.#subjects.get(subject);
    if (versions === undefined) throw new RegistryAnswer(404, `Subject "${subject}" not found`);
    return versions;
  }

  #find(schema: RegistrySchemaText): number | undefined {
    const index = this.#schemas.findIndex((s) => s.type === schema.type && s.text === schema.schema);
    return index === -1 ? undefined : index + 1;
  }
}

function parse(schema: RegistrySchemaText): RegistrySchema {
  try {
    if (schema.type === SchemaType.AVRO) return avroType(schema.schema);
    return new JsonSchema({ type: SchemaType.JSON, schema: schema.schema }, { detailedErrorPaths: true });
  } catch (error) {
    throw new RegistryAnswer(422, `Invalid schema: ${messageOf(error)}`);
  }
}
