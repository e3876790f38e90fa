import { readFileSync } from 'node:fs';

/** One instruction of a Dockerfile: `COPY --from=build /app/dist dist` is COPY, its flags and args. */
export interface Instruction {
  readonly keyword: string;
  readonly flags: Readonly<Record<string, string>>;
  /** Exec-form arguments (JSON arrays) as given; shell-form ones split on blanks. */
  readonly args: readonly string[];
  /** Whether the arguments were a JSON array (exec form). */
  readonly exec: boolean;
  readonly text: string;
}

export interface Stage {
  readonly name: string | undefined;
  readonly image: string;
  readonly instructions: readonly Instruction[];
}

/**
 * Enough of Dockerfile syntax for structure checks: comments, `\` continuations, flags and the
 * exec (JSON) form. No Docker engine here to build it for real.
 */
export function parseDockerfile(path: string): Stage[] {
  const joined = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: { name: string | undefined; image: string; instructions: Instruction[] }[] = [];
  for (const line of joined.split('\n').map((l) => l.trim()).filter((l) => l !== '')) {
    const instruction = parseInstruction(line);
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args;
      stages.push({ image: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined) throw new Error(`${path}: ${instruction.keyword} before any FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

function parseInstruction(line: string): Instruction {
  const [keyword = '', ...rest] = line.split(/\s+/);
  const flags: Record<string, string> = {};
  while (rest[0]?.startsWith('--')) {
    const [flag, value = ''] = rest.shift()!.slice(2).split('=');
    flags[flag!] = value;
  }
  const body = rest.join(' ');
  const exec = body.startsWith('[');
  const args = exec ? (JSON.parse(body) as string[]) : rest;
  return { keyword: keyword.toUpperCase(), flags, args, exec, text: line };
}
