/**
 * Whose fault a PostgreSQL error is: the data's (the same rows would fail again, so they are
 * dead-lettered) or the server's availability (down, overloaded, shutting down, no rights: the
 * same rows may well go through later, so the sink waits behind its circuit breaker).
 */
export type PostgresFault = 'data' | 'availability';

/**
 * SQLSTATE classes a value causes: 22 data exception (out of range, malformed JSON, an invalid
 * byte sequence for the encoding), 23 integrity constraint violation, 54 program limit exceeded
 * (a row or an index entry too large).
 */
const dataClasses = new Set(['22', '23', '54']);

/** Codes of class 42 (syntax or access) that a value of the wrong type causes, not the statement. */
const dataCodes = new Set([
  '42804', // datatype_mismatch: a text where the column is an integer
  '42P18', // indeterminate_datatype
  '42846', // cannot_coerce
]);

/**
 * The server's answer when a string holds a NUL character: its wire protocol ends strings at a
 * NUL, so the statement's text ends early and the message no longer parses. It is the value's
 * fault only if a value sent holds a NUL; otherwise the connection itself is broken.
 */
const protocolViolation = '08P01';

/**
 * Classifies `error` from a statement that carried `values` (the rows' column values). Anything
 * without a SQLSTATE (a refused connection, a timeout, a pool that ended) is about availability.
 *
 * @example
 * classifyPostgresError({ code: '23505' }, rows) // 'data'
 * classifyPostgresError({ code: '57P01' }, rows) // 'availability' (admin shutdown)
 */
export function classifyPostgresError(error: unknown, values: readonly unknown[]): PostgresFault {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'availability';
  if (dataClasses.has(code.slice(0, 2)) || dataCodes.has(code)) return 'data';
  if (code === protocolViolation && holdsNul(values)) return 'data';
  return 'availability';
}

/** Whether a string in `value`, or nested in an array or object of it, holds a NUL. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (typeof value !== 'object' || value === null || value instanceof Date || Buffer.isBuffer(value)) return false;
  return (Array.isArray(value) ? value : Object.values(value)).some(holdsNul);
}
