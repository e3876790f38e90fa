import { setTimeout as sleep } from 'node:timers/promises';
import avsc from 'avsc';
import { SchemaType, type COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import { StreamrunError, invalidOptions } from '../errors/streamrun-error.ts';
import { messageOf } from '../errors/message-of.ts';
import { avroName, avroType, readAvro, writeAvro, type AvroType } from './avro.ts';
import type { AvroSchema } from './avro-schema.ts';
import { registryClient, shownUrl, statusOf, type RegistrySchema, type RegistrySchemaText, type SchemaRegistryClient } from './schema-registry-client.ts';
import type { Serde } from './serde.ts';
import { schemaIdOf, splitFramed, withSchemaId } from './wire-format.ts';

/** A JSON Schema document (draft-07 and later, as the registry and ajv take them). */
export type JsonSchemaDocument = { readonly [keyword: string]: unknown };

export interface RegistrySerdeOptions {
  /**
   * The registry's URL (`http://user:password@host:8081` for basic auth), or a client: a
   * `SchemaRegistry` of @kafkajs/confluent-schema-registry of your own, or the test driver's
   * `TestSchemaRegistry`.
   */
  readonly registry: string | SchemaRegistryClient;
  /** The subject: `<topic>-value` or `<topic>-key` under the registry's default naming. */
  readonly subject: string;
  /** `avro` (the default) or `json` (JSON Schema). */
  readonly format?: 'avro' | 'json';
  /**
   * The schema this serde writes with, and, for Avro, reads as: a record written with an older
   * or newer version of the subject is resolved to it (fields it lacks take their defaults,
   * fields it does not know are dropped). Without one it writes with the subject's latest
   * schema and reads each record as the schema it was written with.
   */
  readonly schema?: AvroSchema | JsonSchemaDocument;
  /**
   * Registers `schema` under the subject when the serde opens (the default), so a schema the
   * subject's compatibility rule refuses stops the start. `false`: it must be registered already.
   */
  readonly register?: boolean;
}

type Read = (payload: Buffer) => unknown;

/**
 * Values in the schema registry's wire format (a zero byte, the schema id, the Avro or JSON
 * value), as Confluent's serializers write them. The schema id is fetched when the serde
 * opens; the schema of each id a record names, the first time it is seen, and kept.
 */
export function registrySerde<T>(options: RegistrySerdeOptions): Serde<T> {
  const { subject, format, schema, register } = checked(options);
  const client = typeof options.registry === 'string' ? registryClient(options.registry) : options.registry;
  const where = typeof options.registry === 'string' ? `schema registry ${shownUrl(options.registry)}` : 'the schema registry';
  const type: SchemaType.AVRO | SchemaType.JSON = format === 'avro' ? SchemaType.AVRO : SchemaType.JSON;
  const reader = format === 'avro' && schema !== undefined ? avroType(schema as AvroSchema) : undefined;
  const text = schema === undefined ? undefined : JSON.stringify(schema);
  const readers = new Map<number, Read>();
  /** Ids the registry does not have, or whose schema this serde cannot read, and why. */
  const unreadable = new Map<number, string>();
  const loading = new Map<number, Promise<void>>();
  let writer: { readonly id: number; readonly write: (value: unknown) => Buffer } | undefined;
  let opening: Promise<void> | undefined;

  const ask = async <R>(what: string, call: () => Promise<R>): Promise<R> => {
    try {
      return await call();
    } catch (error) {
      const status = statusOf(error);
      const answered = status === undefined ? '' : ` (HTTP ${status})`;
      throw new StreamrunError('SCHEMA_REGISTRY', `${where}: cannot ${what}: ${registryMessage(error)}${answered}`, { cause: error });
    }
  };

  const learn = (id: number, found: RegistrySchema): void => {
    const foundAvro = found instanceof avsc.Type ? found : undefined;
    if ((format === 'avro') !== (foundAvro !== undefined)) {
      unreadable.set(id, `schema id ${id} in ${where} is ${foundAvro === undefined ? 'not Avro' : 'Avro'}, and this serde reads ${format === 'avro' ? 'Avro' : 'JSON Schema'}`);
      return;
    }
    if (foundAvro === undefined) {
      readers.set(id, (payload) => readJson(found, id, payload));
      return;
    }
    if (reader === undefined || reader.equals(foundAvro)) {
      const as = reader ?? foundAvro;
      readers.set(id, (payload) => readAvro(as, payload));
      return;
    }
    try {
      const resolver = reader.createResolver(foundAvro);
      readers.set(id, (payload) => readAvro(reader, payload, resolver));
    } catch (error) {
      unreadable.set(id, `a record written with schema id ${id} cannot be read as ${avroName(reader)}: ${messageOf(error)}`);
    }
  };

  const load = (id: number): Promise<void> => {
    const started = fetchSchema(client, id).then(
      (found) => learn(id, found),
      (error: unknown) => {
        // Only a registry that answers "no such schema" settles a record's fate; anything else
        // (down, refusing us) would dead-letter good records: it stops the runner instead.
        if (statusOf(error) === 404) unreadable.set(id, `schema id ${id} is not in ${where}`);
        else throw new StreamrunError('SCHEMA_REGISTRY', `${where}: cannot fetch schema id ${id}: ${registryMessage(error)}`, { cause: error });
      },
    );
    loading.set(id, started);
    return started.finally(() => loading.delete(id));
  };

  const openOnce = async (): Promise<void> => {
    const confluent = text === undefined ? undefined : { type, schema: text };
    const id =
      confluent === undefined
        ? await ask(`find the latest schema of subject "${subject}"`, () => client.getLatestSchemaId(subject))
        : register
          ? (await ask(`register the schema under subject "${subject}"`, () => registerJudgedByRegistry(client, confluent, subject))).id
          : await ask(`find the schema under subject "${subject}" (register: false)`, () => client.getRegistryIdBySchema(subject, confluent));
    const found = await ask(`fetch schema id ${id}`, () => client.getSchema(id));
    learn(id, found);
    // The subject's latest schema may be of the other format: nothing could be written with it.
    const mismatch = unreadable.get(id);
    if (mismatch !== undefined) throw new StreamrunError('SCHEMA_REGISTRY', mismatch);
    writer = { id, write: writerOf(found, reader) };
    // State stores read back what earlier versions of the topology wrote, and a store read
    // cannot wait for the registry: every version of the subject is fetched now.
    for (let version = 1; ; version++) {
      const older = await client.getRegistryId(subject, version).catch((error: unknown) => {
        if (statusOf(error) === 404) return undefined;
        throw new StreamrunError('SCHEMA_REGISTRY', `${where}: cannot list the versions of subject "${subject}": ${registryMessage(error)}`, { cause: error });
      });
      if (older === undefined) break;
      if (!readers.has(older) && !unreadable.has(older)) await load(older);
    }
  };

  return Object.freeze({
    name: `registry(${format}, ${subject})`,
    open(): Promise<void> {
      opening ??= openOnce().catch((error: unknown) => {
        opening = undefined;
        throw error;
      });
      return opening;
    },
    prepare(data: Buffer): Promise<void> | undefined {
      const id = schemaIdOf(data);
      if (id === undefined || readers.has(id) || unreadable.has(id)) return undefined;
      return loading.get(id) ?? load(id);
    },
    serialize(value: T): Buffer {
      if (writer === undefined) {
        throw new StreamrunError('PROCESSING', `registry(${format}, ${subject}) is not open: await serde.open() before writing with it outside a runner or test driver`);
      }
      return withSchemaId(writer.id, writer.write(value));
    },
    deserialize(data: Buffer): T {
      const { id, payload } = splitFramed(data);
      const read = readers.get(id);
      if (read !== undefined) return read(payload) as T;
      throw new StreamrunError('DESERIALIZATION', unreadable.get(id) ?? `schema id ${id} was not fetched: the serde was not prepared for this record`);
    },
  });
}

/**
 * @kafkajs/confluent-schema-registry refuses to register under a subject whose compatibility
 * level is not the one it was given (BACKWARD unless told), before the registry is asked; and
 * Apicurio reports NONE for a subject without a rule of its own even where the global rule is
 * BACKWARD. The registry applies its rule to the registration itself: so it is asked again,
 * telling the library the level the subject has.
 */
async function registerJudgedByRegistry(client: SchemaRegistryClient, schema: RegistrySchemaText, subject: string): Promise<{ id: number }> {
  try {
    return await client.register(schema, { subject });
  } catch (error) {
    const level = error instanceof Error && error.name === 'ConfluentSchemaRegistryCompatibilityError' ? /\(\w+ != (\w+)\)$/.exec(error.message)?.[1] : undefined;
    if (level === undefined) throw error;
    return client.register(schema, { subject, compatibility: level as COMPATIBILITY });
  }
}

/**
 * A registry restarting or a moment's network trouble should not stop a runner in mid-stream:
 * a fetch that fails other than with "no such schema" is tried again for about 15 s.
 */
const refetchDelaysMs = [250, 500, 1_000, 2_000, 4_000, 8_000];

async function fetchSchema(client: SchemaRegistryClient, id: number): Promise<RegistrySchema> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.getSchema(id);
    } catch (error) {
      const delay = refetchDelaysMs[attempt];
      if (statusOf(error) === 404 || delay === undefined) throw error;
      await sleep(delay);
    }
  }
}

function writerOf(found: RegistrySchema, reader: AvroType | undefined): (value: unknown) => Buffer {
  const type = reader ?? (found instanceof avsc.Type ? found : undefined);
  if (type !== undefined) return (value) => writeAvro(type, value);
  return (value) => {
    try {
      return found.toBuffer(value as object);
    } catch (error) {
      // No cause, as for Avro: the library's own error says only "invalid payload".
      throw new StreamrunError('PROCESSING', `value does not match the JSON Schema: ${validationDetail(error)}`);
    }
  };
}

function readJson(found: RegistrySchema, id: number, payload: Buffer): unknown {
  try {
    return found.fromBuffer(payload);
  } catch (error) {
    throw new StreamrunError('DESERIALIZATION', `bytes are not a value of JSON Schema id ${id}: ${validationDetail(error)}`);
  }
}

/**
 * What a JSON Schema validation said, field by field: the library's error carries ajv's
 * messages as `{ path, message }` (with `detailedErrorPaths`) or bare paths.
 */
function validationDetail(error: unknown): string {
  const paths = typeof error === 'object' && error !== null ? (error as { paths?: unknown }).paths : undefined;
  if (!Array.isArray(paths) || paths.length === 0) return messageOf(error);
  return paths
    .map((entry: unknown) => {
      const detailed = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? (entry as { path?: unknown; message?: unknown }) : undefined;
      const path = (Array.isArray(detailed?.path) ? detailed.path : Array.isArray(entry) ? entry : []).join('.') || 'value';
      return detailed?.message === undefined ? `invalid at ${path}` : `${path}: ${String(detailed.message)}`;
    })
    .join('; ');
}

/** The registry's own words, without the client's name the library puts first. */
function registryMessage(error: unknown): string {
  return messageOf(error).replace(/^streamrun - /, '');
}

function checked(options: RegistrySerdeOptions): Required<Omit<RegistrySerdeOptions, 'schema' | 'registry'>> & Pick<RegistrySerdeOptions, 'schema'> {
  if (typeof options !== 'object' || options === null) throw invalidOptions('serdes.registry: expected options { registry, subject, ... }');
  const { registry, subject, format = 'avro', schema, register = true } = options;
  if (typeof registry === 'string') {
    if (!URL.canParse(registry)) throw invalidOptions(`serdes.registry: registry: expected a URL such as http://localhost:8081, got ${JSON.stringify(registry)}`);
  } else if (typeof registry !== 'object' || registry === null || typeof registry.getSchema !== 'function') {
    throw invalidOptions('serdes.registry: registry: expected a URL or a schema registry client');
  }
  if (typeof subject !== 'string' || subject.trim() === '') throw invalidOptions('serdes.registry: subject: expected a non-empty string such as "orders-value"');
  if (format !== 'avro' && format !== 'json') throw invalidOptions(`serdes.registry: format: expected "avro" or "json", got ${JSON.stringify(format)}`);
  if (schema !== undefined && format === 'json' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
    throw invalidOptions('serdes.registry: schema: a JSON Schema is an object');
  }
  if (typeof register !== 'boolean') throw invalidOptions(`serdes.registry: register: expected true or false, got ${JSON.stringify(register)}`);
  return { subject, format, schema, register };
}
