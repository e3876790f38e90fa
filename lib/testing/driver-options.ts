import type { ResolvedErrorPolicy } from '../errors/policy.ts';
import { StreamrunError } from '../errors/streamrun-error.ts';
import type { Logger } from '../runtime/logger.ts';
import { defaultBrokers, resolveRunnerOptions, type RunnerOptions } from '../runtime/options.ts';

/**
 * How a TopologyTestDriver runs a topology: the runner's options that change what a topology
 * does (its application id, error policy and idle rule), and where its wall clock starts.
 */
export interface TopologyTestDriverOptions extends Pick<RunnerOptions, 'appId' | 'errors' | 'watermarkIdleMs' | 'logger'> {
  /** The wall clock at the start, ms since the epoch; it moves only with `advanceWallClockTime`. Default: now. */
  wallClockTime?: number;
}

export interface ResolvedDriverOptions {
  readonly appId: string;
  readonly errors: ResolvedErrorPolicy;
  readonly watermarkIdleMs: number;
  readonly logger: Logger;
  readonly wallClockTime: number;
}

/** Quiet by default: what a test needs to see comes out as records, stats and rejections. */
const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/** The runner's own checks and defaults, so a topology runs here as it would under `start()`. */
export function resolveDriverOptions(options: TopologyTestDriverOptions, topologyAppId: string): ResolvedDriverOptions {
  const { appId, errors, watermarkIdleMs, logger, wallClockTime = Date.now() } = options;
  // Brokers and client are given so that nothing is read from the environment: none is used.
  const runner = resolveRunnerOptions({ appId, errors, watermarkIdleMs, logger: logger ?? quiet, brokers: defaultBrokers, client: 'kafkajs' }, topologyAppId);
  if (!Number.isSafeInteger(wallClockTime)) {
    throw new StreamrunError('INVALID_OPTIONS', `wallClockTime: expected ms since the epoch, got ${wallClockTime}`);
  }
  return { appId: runner.appId, errors: runner.errors, watermarkIdleMs: runner.watermarkIdleMs, logger: runner.logger, wallClockTime };
}
