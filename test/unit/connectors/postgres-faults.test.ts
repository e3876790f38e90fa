import { describe, expect, it } from 'vitest';
import { classifyPostgresError } from '../../../lib/connectors/postgres-faults.ts';

/** What pg rejects with: an Error carrying the server's SQLSTATE in `code`. */
const serverError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'ERROR' });

const clean = [{ id: 'r1', sensor: 's1', value: 1 }];
const withNul = [{ id: 'r1', sensor: 's1', value: 1 }, { id: 'r2', sensor: 'x\u0000y', value: 2 }];

describe('classifyPostgresError', () => {
  it.each([
    // What the server answered in test/e2e/sink-faults.test.ts for a NUL in a text column.
    ['08P01', 'invalid message format', withNul, 'data'],
    ['08P01', 'invalid message format', [{ id: 'r1', tags: ['a', 'b\u0000'] }], 'data'],
    ['08P01', 'invalid message format', [{ id: 'r1', doc: { deep: { s: '\u0000' } } }], 'data'],
    ['08P01', 'invalid message format', clean, 'availability'],
    ['22021', 'invalid byte sequence for encoding "UTF8": 0x00', clean, 'data'],
    ['22P05', 'unsupported Unicode escape sequence', clean, 'data'],
    ['22003', 'integer out of range', clean, 'data'],
    ['22P02', 'invalid input syntax for type integer: "abc"', clean, 'data'],
    ['22001', 'value too long for type character varying(3)', clean, 'data'],
    ['23505', 'duplicate key value violates unique constraint "t_pkey"', clean, 'data'],
    ['23502', 'null value in column "sensor" violates not-null constraint', clean, 'data'],
    ['23514', 'new row for relation "t" violates check constraint "t_value_check"', clean, 'data'],
    ['23503', 'insert or update on table "t" violates foreign key constraint', clean, 'data'],
    ['54000', 'index row size 9000 exceeds btree version 4 maximum 2704', clean, 'data'],
    ['42804', 'column "value" is of type integer but expression is of type boolean', clean, 'data'],
    ['42P18', 'could not determine data type of parameter $1', clean, 'data'],
    ['42846', 'cannot cast type boolean to date', clean, 'data'],
    ['42501', 'permission denied for table t', clean, 'availability'],
    ['42P01', 'relation "t" does not exist', clean, 'availability'],
    ['08006', 'connection failure', withNul, 'availability'],
    ['08003', 'connection does not exist', clean, 'availability'],
    ['53300', 'sorry, too many clients already', clean, 'availability'],
    ['53100', 'could not extend file: No space left on device', clean, 'availability'],
    ['57P01', 'terminating connection due to administrator command', clean, 'availability'],
    ['57P03', 'the database system is starting up', clean, 'availability'],
    ['57014', 'canceling statement due to statement timeout', clean, 'availability'],
    ['40001', 'could not serialize access due to concurrent update', clean, 'availability'],
    ['40P01', 'deadlock detected', clean, 'availability'],
    ['XX000', 'internal error', clean, 'availability'],
  ] as const)('%s (%s) is about %s', (code, message, values, fault) => {
    expect(classifyPostgresError(serverError(code, message), values)).toBe(fault);
  });

  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a connection timeout', new Error('timeout exceeded when trying to connect')],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    ['a pool that ended', new Error('Cannot use a pool after calling end on the pool')],
    ['something not an Error', 'boom'],
    ['nothing', undefined],
  ])('%s is about availability, whatever the values', (_, error) => {
    expect(classifyPostgresError(error, withNul)).toBe('availability');
  });
});
