import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';

/** When a dependency counts as down, and when to try it again. */
export interface BreakerOptions {
  /** Consecutive failures that open the circuit. Default 3 (below the default 4 tries of a record). */
  failures?: number;
  /** How long it stays open before one call may test the dependency. Default 1,000 ms. */
  halfOpenAfterMs?: number;
}

/** The options with their defaults filled in. */
export function breakerSettings(options: BreakerOptions = {}): Required<BreakerOptions> {
  return { failures: options.failures ?? 3, halfOpenAfterMs: options.halfOpenAfterMs ?? 1000 };
}

export interface Breaker {
  readonly halfOpenAfterMs: number;
  call<T>(fn: () => Promise<T>): Promise<T>;
  onOpen(listener: () => void): void;
  /** Whether the dependency counts as up: not while the circuit is open, nor half-open until a call went through. */
  closed(): boolean;
  /** For the metrics: 0 closed, 1 half-open, 2 open. */
  state(): 0 | 1 | 2;
}

/**
 * A circuit breaker around one external dependency, shared by the tasks that call it: while it
 * is open, calls fail at once, and the runner waits instead of dead-lettering healthy records.
 */
export function createBreaker(options: BreakerOptions = {}, countsAsDown?: (error: Error) => boolean): Breaker {
  const { failures, halfOpenAfterMs } = breakerSettings(options);
  const policy: CircuitBreakerPolicy = circuitBreaker(countsAsDown === undefined ? handleAll : handleWhen(countsAsDown), {
    halfOpenAfter: halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(failures),
  });
  return {
    halfOpenAfterMs,
    call: (fn) => policy.execute(fn),
    onOpen: (listener) => void policy.onBreak(listener),
    closed: () => policy.state === CircuitState.Closed,
    state: () => (policy.state === CircuitState.Closed ? 0 : policy.state === CircuitState.HalfOpen ? 1 : 2),
  };
}

/** Whether `error` (or what it wraps) says the circuit was open. */
export function isBrokenCircuit(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof BrokenCircuitError) return true;
  }
  return false;
}
