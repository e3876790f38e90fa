/**
 * What the HTTP server may ask of a running instance. The runner implements it over the stores
 * of the tasks it owns; the server only reads through it, so it never touches a store directly.
 */
export interface StoreQueries {
  /** Names of the state stores this instance has. */
  stores(): string[];
  /**
   * The value of `key` (as written in the URL) in `store` on this instance, or undefined.
   * Throws a StreamrunError with code 'INVALID_OPTIONS' when the key text cannot be read by the
   * store's key serde.
   */
  get(store: string, key: string): Promise<unknown>;
  /** Entries with from <= key <= to (either bound optional), at most `limit`, in key order. */
  range(
    store: string,
    query: { from?: string; to?: string; limit: number },
  ): Promise<{ key: unknown; value: unknown }[]>;
}

/** What `GET /health` answers; any status but 'ok' is served as 503. */
export interface HealthReport {
  status: 'ok' | 'starting' | 'stopping' | 'degraded';
  appId: string;
  tasks: string[];
  /** Each dependency checked: 'ok' or why not. */
  checks?: Record<string, string>;
}
