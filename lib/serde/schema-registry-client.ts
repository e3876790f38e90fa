import { SchemaRegistry, SchemaType, type COMPATIBILITY } from '@kafkajs/confluent-schema-registry';

/** A schema as the registry keeps it: its format and its text. */
export interface RegistrySchemaText {
  readonly type: SchemaType.AVRO | SchemaType.JSON;
  readonly schema: string;
}

/** What the registry gives for an id: a schema that reads and writes values. */
export interface RegistrySchema {
  toBuffer(payload: object): Buffer;
  fromBuffer(buffer: Buffer): unknown;
}

/**
 * The calls registry serdes make. `SchemaRegistry` of @kafkajs/confluent-schema-registry has
 * them (pass one of your own for its auth, retries or agent), and so does the test driver's
 * `TestSchemaRegistry`. A call that fails rejects with an error whose `status` is the HTTP
 * status the registry answered with, if it answered.
 */
export interface SchemaRegistryClient {
  /** `compatibility`: the level the subject has, which the library checks before registering. */
  register(schema: RegistrySchemaText, options: { subject: string; compatibility?: COMPATIBILITY }): Promise<{ id: number }>;
  getRegistryIdBySchema(subject: string, schema: RegistrySchemaText): Promise<number>;
  getRegistryId(subject: string, version: number | string): Promise<number>;
  getLatestSchemaId(subject: string): Promise<number>;
  /** For Avro, the avsc `Type` of the schema. */
  getSchema(id: number): Promise<RegistrySchema>;
}

/** A client of the registry at `url`, which may carry `user:password@` for basic auth. */
export function registryClient(url: string): SchemaRegistryClient {
  const parsed = new URL(url);
  const auth = parsed.username === '' ? undefined : { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
  parsed.username = '';
  parsed.password = '';
  // Detailed paths: a JSON value that fails its schema says which field and why.
  return new SchemaRegistry(
    { host: parsed.href.replace(/\/$/, ''), clientId: 'streamrun', ...(auth === undefined ? {} : { auth }) },
    { [SchemaType.JSON]: { detailedErrorPaths: true } },
  );
}

/** The URL without its credentials, for messages. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href.replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** The HTTP status a registry call failed with, if the registry answered. */
export function statusOf(error: unknown): number | undefined {
  const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : undefined;
}
