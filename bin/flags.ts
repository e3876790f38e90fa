import { CommanderError, InvalidArgumentError } from 'commander';

/** Exit code of a command line the CLI cannot run as given (a bad flag, a missing argument). */
export const usageExitCode = 2;

/** A flag value parser: the reason it throws becomes `--flag: <reason>, got "<value>"`. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function portNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port from 0 to 65535');
  return n;
}

// Commander's wording (v14) of a value its parser refused, for a flag, a flag's environment
// variable and a positional argument.
const badFlag = /^error: option '(\S+)[^']*' argument '(.*)' is invalid\. (.*)$/s;
const badEnv = /^error: option '(\S+)[^']*' value '(.*)' from env '(.*)' is invalid\. (.*)$/s;
const badArgument = /^error: command-argument value '(.*)' is invalid for argument '(.*)'\. (.*)$/s;

/**
 * The one line (without "streamrun: ") for an error commander raised while parsing, or
 * undefined when it is not an error but help or the version, which commander has printed.
 */
export function usageLine(error: CommanderError): string | undefined {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return undefined;
  const reason = (text: string) => {
    const choices = /^Allowed choices are (.*)\.$/.exec(text);
    return choices ? `expected one of ${choices[1]}` : text;
  };
  const flag = badFlag.exec(error.message);
  if (flag) return `${flag[1]}: ${reason(flag[3]!)}, got "${flag[2]}"`;
  const env = badEnv.exec(error.message);
  if (env) return `${env[1]} (from $${env[3]}): ${reason(env[4]!)}, got "${env[2]}"`;
  const argument = badArgument.exec(error.message);
  if (argument) return `<${argument[2]}>: ${reason(argument[3]!)}, got "${argument[1]}"`;
  return error.message.replace(/^error: /, '').split('\n')[0];
}
