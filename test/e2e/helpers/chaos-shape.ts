/**
 * What the chaos topology (test/e2e/fixtures/chaos.ts) computes, shared with the judge that
 * recomputes it from the input (helpers/chaos-check.ts); a module of its own because importing
 * the fixture builds its topology from the environment.
 */

/** Groups the windowed aggregate re-keys to. */
export const GROUPS = 10;
export const WINDOW_MS = 10_000;
/**
 * Windows stay open for the whole run: a partition a kill held back may come in far behind the
 * others, and a record dropped as late would look like a lost one.
 */
export const GRACE_MS = 24 * 3_600_000;

export interface Parsed {
  seq: number;
  key: string;
  /** What the windowed aggregate sums. */
  amount: number;
}

export interface Totals {
  count: number;
  sum: number;
}

/** An input record (key `key-<n>`, value its sequence number) parsed, as `mapped` gets it. */
export const parse = (value: string, key: string): Parsed => ({ seq: Number(value), key, amount: (Number(value) % 5) + 1 });

/** The windowed aggregate's key: `g-<n % GROUPS>` for `key-<n>`. */
export const groupOf = (key: string): string => `g-${Number(key.slice('key-'.length)) % GROUPS}`;
