import { afterEach, describe, expect, it } from 'vitest';
import { resolveRunnerOptions } from '../../../lib/runtime/options.ts';

describe('resolveRunnerOptions', () => {
  const saved = process.env['KAFKA_BROKERS'];
  afterEach(() => {
    if (saved === undefined) delete process.env['KAFKA_BROKERS'];
    else process.env['KAFKA_BROKERS'] = saved;
  });

  it('defaults to KAFKA_BROKERS, then to 127.0.0.1:9092', () => {
    delete process.env['KAFKA_BROKERS'];
    expect(resolveRunnerOptions({}, 'app').brokers).toEqual(['127.0.0.1:9092']);
    process.env['KAFKA_BROKERS'] = 'a:1, b:2';
    expect(resolveRunnerOptions({}, 'app').brokers).toEqual(['a:1', 'b:2']);
    expect(resolveRunnerOptions({ brokers: ['c:3'] }, 'app').brokers).toEqual(['c:3']);
  });

  it('takes the app id from the topology unless overridden', () => {
    expect(resolveRunnerOptions({}, 'app').appId).toBe('app');
    expect(resolveRunnerOptions({ appId: 'other' }, 'app').appId).toBe('other');
    expect(() => resolveRunnerOptions({ appId: 'no spaces' }, 'app')).toThrow(/appId must be a non-empty string of letters/);
  });

  it('rejects what it cannot use, naming the option', () => {
    expect(() => resolveRunnerOptions({ brokers: 'localhost' }, 'app')).toThrow('brokers: "localhost" is not host:port');
    expect(() => resolveRunnerOptions({ brokers: '' }, 'app')).toThrow('brokers: give at least one host:port');
    expect(() => resolveRunnerOptions({ sourcePartitions: 0 }, 'app')).toThrow('sourcePartitions: expected a positive integer, got 0');
    expect(() => resolveRunnerOptions({ shutdownTimeoutMs: 1.5 }, 'app')).toThrow('shutdownTimeoutMs');
    expect(() => resolveRunnerOptions({ startupTimeoutMs: 0 }, 'app')).toThrow('startupTimeoutMs: expected a positive integer, got 0');
    expect(() => resolveRunnerOptions({ stallTimeoutMs: -1 }, 'app')).toThrow('stallTimeoutMs: expected a positive integer, got -1');
    expect(resolveRunnerOptions({}, 'app').stallTimeoutMs).toBe(60_000);
  });

  it('gives start-up 60 s of retries unless told otherwise', () => {
    expect(resolveRunnerOptions({}, 'app').startupTimeoutMs).toBe(60_000);
    expect(resolveRunnerOptions({ startupTimeoutMs: 5000 }, 'app').startupTimeoutMs).toBe(5000);
  });

  it('waits 10 s for a silent group member unless told otherwise, within the broker’s bounds', () => {
    expect(resolveRunnerOptions({}, 'app').sessionTimeoutMs).toBe(10_000);
    expect(resolveRunnerOptions({ sessionTimeoutMs: 6_000 }, 'app').sessionTimeoutMs).toBe(6_000);
    expect(() => resolveRunnerOptions({ sessionTimeoutMs: 5_999 }, 'app')).toThrow(
      "sessionTimeoutMs: expected 6000 to 1800000 (the broker's bounds), got 5999",
    );
    expect(() => resolveRunnerOptions({ sessionTimeoutMs: 1_800_001 }, 'app')).toThrow('sessionTimeoutMs');
  });

  it('takes an http(s) advertisedUrl, without its trailing slash', () => {
    expect(resolveRunnerOptions({ advertisedUrl: 'http://10.0.0.5:8080/' }, 'app').advertisedUrl).toBe('http://10.0.0.5:8080');
    expect(resolveRunnerOptions({}, 'app').advertisedUrl).toBeUndefined();
    expect(() => resolveRunnerOptions({ advertisedUrl: 'ftp://10.0.0.5' }, 'app')).toThrow('advertisedUrl: expected an http(s) URL, got "ftp://10.0.0.5"');
    expect(() => resolveRunnerOptions({ advertisedUrl: 'no url' }, 'app')).toThrow('advertisedUrl: "no url" is not a URL');
  });
});
