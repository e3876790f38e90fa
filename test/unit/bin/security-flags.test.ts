import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSecurityFlags, securityOptions, type SecurityFlags } from '../../../bin/security-flags.ts';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** The flags as commander parses them from a command line, then what they ask for. */
function parsed(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const command = addSecurityFlags(new Command('start').exitOverride().configureOutput({ writeErr: () => {} }));
  command.parse([...args], { from: 'user' });
  return securityOptions(command.opts<SecurityFlags>(), env);
}

describe('the --ssl and --sasl flags and their KAFKA_ variables', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streamrun-flags-'));
    await writeFile(file('ca.pem'), pem);
    await writeFile(file('other.pem'), pem.replace('MIIB', 'MIIC'));
    await writeFile(file('password'), 'from-file\n');
    await writeFile(file('empty'), '\n');
    await writeFile(file('not-pem'), 'hello');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('asks for nothing when nothing is given, so a module’s own ssl and sasl stay', () => {
    expect(parsed([])).toEqual({});
    expect(parsed([], { KAFKA_SSL: 'false' })).toEqual({});
  });

  it('--ssl (or KAFKA_SSL=true) is TLS with the system CAs; a CA, cert or key file implies TLS', () => {
    expect(parsed(['--ssl'])).toEqual({ ssl: true });
    expect(parsed([], { KAFKA_SSL: 'true' })).toEqual({ ssl: true });
    expect(parsed([], { KAFKA_SSL: '1' })).toEqual({ ssl: true });
    expect(parsed(['--ssl-ca', file('ca.pem')])).toEqual({ ssl: { ca: pem } });
    expect(parsed(['--ssl-cert', file('ca.pem'), '--ssl-key', file('ca.pem')], { KAFKA_SSL_KEY_PASSWORD: 'kp' })).toEqual({
      ssl: { cert: pem, key: pem, passphrase: 'kp' },
    });
  });

  it('a flag wins over its variable', () => {
    expect(parsed(['--ssl-ca', file('other.pem')], { KAFKA_SSL_CA: file('ca.pem') })).toEqual({ ssl: { ca: pem.replace('MIIB', 'MIIC') } });
    expect(parsed([], { KAFKA_SSL_CA: file('ca.pem') })).toEqual({ ssl: { ca: pem } });
    expect(
      parsed(['--sasl-mechanism', 'plain', '--sasl-username', 'flag-user'], {
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: 'env-user',
        KAFKA_SASL_PASSWORD: 'p',
      }),
    ).toEqual({ sasl: { mechanism: 'plain', username: 'flag-user', password: 'p' } });
  });

  it('takes the password from --sasl-password-file, else KAFKA_SASL_PASSWORD_FILE, else KAFKA_SASL_PASSWORD; a file loses its last newline', () => {
    const sasl = ['--sasl-mechanism', 'SCRAM-SHA-512', '--sasl-username', 'alice'];
    expect(parsed(sasl, { KAFKA_SASL_PASSWORD: 'from-env' })).toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'from-env' } });
    expect(parsed(sasl, { KAFKA_SASL_PASSWORD: 'from-env', KAFKA_SASL_PASSWORD_FILE: file('password') }).sasl?.password).toBe('from-file');
    expect(parsed([...sasl, '--sasl-password-file', file('password')], { KAFKA_SASL_PASSWORD_FILE: file('empty') }).sasl?.password).toBe('from-file');
  });

  it('has no flag that takes a password: ps would show it', () => {
    expect(() => parsed(['--sasl-password', 'secret'])).toThrow("error: unknown option '--sasl-password'");
  });

  it('a file it cannot use, or SASL given in part, is one line naming the flag or variable', () => {
    const cases: [readonly string[], NodeJS.ProcessEnv, string][] = [
      [['--ssl-ca', file('missing.pem')], {}, `--ssl-ca: cannot read ${file('missing.pem')}: no such file`],
      [[], { KAFKA_SSL_CERT: file('missing.pem'), KAFKA_SSL_KEY: file('ca.pem') }, `KAFKA_SSL_CERT: cannot read ${file('missing.pem')}: no such file`],
      [['--ssl-key', dir], {}, `--ssl-key: cannot read ${dir}: it is a directory`],
      [['--ssl-ca', file('not-pem')], {}, `--ssl-ca: ${file('not-pem')} is not PEM (no "-----BEGIN" line)`],
      [['--sasl-mechanism', 'plain', '--sasl-username', 'u', '--sasl-password-file', file('empty')], {}, `--sasl-password-file: ${file('empty')} is empty`],
      [['--sasl-mechanism', 'gssapi', '--sasl-username', 'u'], { KAFKA_SASL_PASSWORD: 'p' }, '--sasl-mechanism: expected plain, scram-sha-256, scram-sha-512, got "gssapi"'],
      [[], { KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, 'KAFKA_SASL_MECHANISM: expected plain, scram-sha-256, scram-sha-512, got "oauthbearer"'],
      [['--sasl-mechanism', 'plain'], {}, 'SASL needs --sasl-username (or KAFKA_SASL_USERNAME) and a password (KAFKA_SASL_PASSWORD, or a file in --sasl-password-file or KAFKA_SASL_PASSWORD_FILE)'],
      [[], { KAFKA_SASL_PASSWORD: 'p' }, 'SASL needs --sasl-mechanism (or KAFKA_SASL_MECHANISM) and --sasl-username (or KAFKA_SASL_USERNAME)'],
      [[], { KAFKA_SSL: 'yes' }, 'KAFKA_SSL: expected true or false, got "yes"'],
    ];
    for (const [args, env, message] of cases) {
      expect(() => parsed(args, env), message).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', message }));
    }
  });
});
