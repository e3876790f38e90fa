// streamrun/testing: run a topology without a broker, in tests.
export { TopologyTestDriver, type TestSerdes } from './topology-test-driver.ts';
export type { TopologyTestDriverOptions } from './driver-options.ts';
export type { TestInputRecord, TestInputTopic, TestOutputTopic, TestRecord } from './test-topics.ts';
export type { StartTimes, TestKeyValueStore, TestWindowStore } from './test-stores.ts';
export { TestSchemaRegistry, type TestSchemaRegistryOptions } from './test-schema-registry.ts';
