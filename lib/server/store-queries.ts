/**
 * What the HTTP server may ask of a running instance. The runner implements it over the stores
 * of the tasks it owns; the server only reads through it, so it never touches a store directly.
 */
export interface StoreQueries {
  /** Names of the state stores this instance has. */
  stores(): string[];
  /** The application's instances and the tasks each runs, when there is a group to ask. */
  instances?(): InstanceView[];
  /**
   * The value of `key` (as written in the URL) in `store` on this instance, or undefined.
   * Throws a StreamrunError with code 'INVALID_OPTIONS' when the key text cannot be read by the
   * store's key serde.
   */
  get(store: string, key: string, origin?: QueryOrigin): Promise<unknown>;
  /** Entries with from <= key <= to (either bound optional), at most `limit`, in key order. */
  range(
    store: string,
    query: { from?: string; to?: string; limit: number },
    origin?: QueryOrigin,
  ): Promise<{ key: unknown; value: unknown }[]>;
}

/** Who asks: a client, answered for the whole application, or another instance that forwarded the query. */
export interface QueryOrigin {
  /** Another instance asks for what this one holds: answer from its own tasks only. */
  readonly forwarded: boolean;
  /** The client's Authorization header, passed on when the query goes to another instance. */
  readonly authorization?: string | undefined;
}

/** The header a forwarded query carries. */
export const FORWARDED_HEADER = 'streamrun-forwarded';

export interface InstanceView {
  /** Where its HTTP server answers; absent for an instance that serves none. */
  readonly endpoint?: string | undefined;
  readonly tasks: readonly string[];
  /** The instance that answered. */
  readonly self: boolean;
}

/** What `GET /health` answers; any status but 'ok' is served as 503. */
export interface HealthReport {
  status: 'ok' | 'starting' | 'stopping' | 'degraded';
  appId: string;
  tasks: string[];
  /** Each dependency checked: 'ok' or why not. */
  checks?: Record<string, string>;
}
