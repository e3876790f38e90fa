import { describe, expect, it } from 'vitest';
import { StreamrunError, errorCodes } from '../../../lib/errors/streamrun-error.ts';

describe('StreamrunError', () => {
  it('carries code, message, context and retriable (false unless said)', () => {
    const error = new StreamrunError('PROCESSING', 'boom', { context: { topic: 't', partition: 1, offset: '2', node: 'n' } });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('StreamrunError');
    expect(error.code).toBe('PROCESSING');
    expect(error.message).toBe('boom');
    expect(error.retriable).toBe(false);
    expect(error.context).toEqual({ topic: 't', partition: 1, offset: '2', node: 'n' });
    expect(new StreamrunError('BROKER_UNREACHABLE', 'x', { retriable: true }).retriable).toBe(true);
  });

  it('has an empty context and no cause property unless given', () => {
    const error = new StreamrunError('INVALID_OPTIONS', 'bad');
    expect(error.context).toStrictEqual({});
    expect('cause' in error).toBe(false);
    const cause = new Error('inner');
    expect(new StreamrunError('PROCESSING', 'outer', { cause }).cause).toBe(cause);
  });

  it('has a closed list of codes', () => {
    expect(errorCodes).toEqual([
      'INVALID_TOPOLOGY',
      'INVALID_OPTIONS',
      'DESERIALIZATION',
      'PROCESSING',
      'REJECTED',
      'BROKER_UNREACHABLE',
      'AUTHENTICATION_FAILED',
      'TLS_FAILED',
      'TOPIC_SETUP',
      'STARTUP_TIMEOUT',
      'SHUTDOWN_TIMEOUT',
      'TOPOLOGY_LOAD',
      'LATE_RECORD',
      'UNAVAILABLE',
      'STATE_DIR',
      'TRANSACTION_ABORTED',
      'SCHEMA_REGISTRY',
    ]);
  });
});
