// The public API of streamrun. Everything not exported here is internal and may change.

// Building topologies
export { isTopology, topology, type Topology } from './dsl/topology.ts';
export type { Stream, BranchStreams } from './dsl/stream.ts';
export type {
  GroupedStream,
  WindowedGroupedStream,
  StoreOptions,
  WindowedStoreOptions,
  WindowingOptions,
} from './dsl/grouped-stream.ts';
export type { Table } from './dsl/table.ts';
export {
  hopping,
  joinWindows,
  session,
  sliding,
  tumbling,
  type JoinWindows,
  type SessionWindows,
  type SlidingWindows,
  type TimeWindows,
  type Windowed,
} from './dsl/windows.ts';
export type { EnrichOptions, NamedOptions, Predicate, SinkSerde, SinkSerdes, StreamJoinOptions } from './dsl/options.ts';
export type { ExternalSink, ExternalSinkOptions, SinkRecord } from './dsl/external-sink.ts';
export type { KeyValue, RecordContext, RecordHeaders } from './graph/nodes.ts';
export type { TopologyDescription, SubtopologyDescription, NodeDescription } from './graph/describe.ts';

// Serialization
export { serdes } from './serde/builtin.ts';
export type { Serde, Serdes } from './serde/serde.ts';
export type { BuiltinSerdes } from './serde/builtin.ts';
export type { AvroSchema, AvroValue, AvroField, AvroPrimitive, AvroRecordSchema } from './serde/avro-schema.ts';
export type { JsonSchemaDocument, RegistrySerdeOptions } from './serde/registry-serde.ts';
export type { RegistrySchema, RegistrySchemaText, SchemaRegistryClient } from './serde/schema-registry-client.ts';

// Running
export { start, type Runner } from './runtime/runner.ts';
export type { RunnerOptions } from './runtime/options.ts';
export type { Pem, SaslMechanism, SaslOptions, SslOptions } from './kafka/security.ts';
export type { HealthCheck, HttpRoutes, PublishRecord, Setup, SetupContext } from './runtime/setup.ts';
export type { RunnerStats } from './runtime/stats.ts';
export { consoleLogger, type Logger, type LogFields, type LogLevel } from './runtime/logger.ts';
export { jsonLogger, type LogFormat } from './runtime/json-logger.ts';

// Errors
export { StreamrunError, type ErrorCode, type ErrorContext } from './errors/streamrun-error.ts';
export type { ErrorPolicy } from './errors/policy.ts';
export type { BreakerOptions } from './errors/breaker.ts';
export { deadLetterHeaders } from './errors/dead-letter.ts';
