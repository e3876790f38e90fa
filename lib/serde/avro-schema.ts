/**
 * An Avro schema as JSON (https://avro.apache.org/docs/1.11.1/specification/): a primitive's
 * name, a named type's name, a union (an array of schemas), or a complex type.
 */
export type AvroSchema =
  | AvroPrimitive
  | string
  | readonly AvroSchema[]
  | { readonly type: AvroPrimitive; readonly logicalType?: string; readonly [extra: string]: unknown }
  | AvroRecordSchema
  | { readonly type: 'enum'; readonly name: string; readonly symbols: readonly string[]; readonly [extra: string]: unknown }
  | { readonly type: 'array'; readonly items: AvroSchema; readonly [extra: string]: unknown }
  | { readonly type: 'map'; readonly values: AvroSchema; readonly [extra: string]: unknown }
  | { readonly type: 'fixed'; readonly name: string; readonly size: number; readonly [extra: string]: unknown };

export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

export interface AvroRecordSchema {
  readonly type: 'record' | 'error';
  readonly name: string;
  readonly namespace?: string;
  readonly fields: readonly AvroField[];
  readonly [extra: string]: unknown;
}

export interface AvroField {
  readonly name: string;
  readonly type: AvroSchema;
  readonly default?: unknown;
  readonly [extra: string]: unknown;
}

interface PrimitiveValues {
  null: null;
  boolean: boolean;
  int: number;
  // avsc reads a long as a number and refuses one past Number.MAX_SAFE_INTEGER.
  long: number;
  float: number;
  double: number;
  bytes: Buffer;
  string: string;
}

/**
 * The TypeScript type of the values a schema describes, as avsc reads them: every field is
 * there (a field's default fills it in when the writer's schema lacked it). A reference to a
 * named type by its name is `unknown`: the type it names is not known here; so is a schema
 * typed only as `AvroSchema`.
 *
 * @example
 * type Reading = AvroValue<typeof readingSchema>; // { sensor: string; value: number; unit: string | null }
 */
export type AvroValue<S> =
  // A schema known only as some AvroSchema (read from a file, say) says nothing about its values.
  AvroSchema extends S ? unknown : KnownAvroValue<S>;

type KnownAvroValue<S> = S extends AvroPrimitive
  ? PrimitiveValues[S]
  : S extends string
    ? unknown
    : S extends readonly unknown[]
      ? AvroValue<S[number]>
      : S extends { readonly type: 'record' | 'error'; readonly fields: infer F extends readonly AvroField[] }
        ? RecordValue<F>
        : S extends { readonly type: 'enum'; readonly symbols: infer E extends readonly string[] }
          ? E[number]
          : S extends { readonly type: 'array'; readonly items: infer I }
            ? AvroValue<I>[]
            : S extends { readonly type: 'map'; readonly values: infer V }
              ? Record<string, AvroValue<V>>
              : S extends { readonly type: 'fixed' }
                ? Buffer
                : S extends { readonly type: infer P extends AvroPrimitive }
                  ? PrimitiveValues[P]
                  : unknown;

type RecordValue<F extends readonly AvroField[]> = { [K in F[number] as K['name']]: AvroValue<K['type']> };
