/**
 * Reads an Open MPI (4.x) `mpirun` argv the way mpirun does: options, each with the number of
 * values it takes, up to the first argument that is not an option, which is the program.
 * The numbers of values come from the real `mpirun --help all`, so the parse agrees with the
 * mpirun that runs the rehearsal.
 */

/** An option and the values it took. */
export interface MpirunOption {
  /** The option as written, e.g. `--mca`. */
  readonly name: string;
  /** Index of the option in the argv. */
  readonly index: number;
  /** Its values. */
  readonly values: string[];
}

const OPTION_LINE = /^\s*(-{1,2}[A-Za-z][\w-]*(?:\|-{1,2}[A-Za-z][\w-]*)*)((?:\s+<arg\d+>)*)(?:\s|$)/;

/** Number of values of every option listed by `mpirun --help all`, keyed by each spelling. */
export function parseMpirunHelp(helpText: string): Map<string, number> {
  const arity = new Map<string, number>();
  for (const line of helpText.split('\n')) {
    const match = OPTION_LINE.exec(line);
    if (!match) continue;
    const count = (match[2].match(/<arg\d+>/g) ?? []).length;
    for (const name of match[1].split('|')) arity.set(name, count);
  }
  return arity;
}

/** The options, the program and its arguments of an mpirun argv. */
export class MpirunCommandLine {
  /** Parses `argv` (argv[0] is mpirun) with the option table of `parseMpirunHelp`. */
  public static parse(argv: string[], arity: Map<string, number>): MpirunCommandLine {
    const options: MpirunOption[] = [];
    let i = 1;
    while (i < argv.length && argv[i].startsWith('-')) {
      // Unknown options take no value here; mpirun itself reports them.
      const count = arity.get(argv[i]) ?? 0;
      options.push({ name: argv[i], index: i, values: argv.slice(i + 1, i + 1 + count) });
      i += 1 + count;
    }
    return new MpirunCommandLine(argv, options, i);
  }

  private constructor(
    /** The whole argv. */
    public readonly argv: string[],
    /** Every option before the program, in order. */
    public readonly options: MpirunOption[],
    /** Index of the program in the argv (argv.length when there is none). */
    public readonly programIndex: number,
  ) {}

  /** The program mpirun starts on every rank (the Python interpreter), if any. */
  public get program(): string | undefined {
    return this.argv[this.programIndex];
  }

  /** The program's arguments: the script and its arguments. */
  public get programArgs(): string[] {
    return this.argv.slice(this.programIndex + 1);
  }

  /** Options with one of these spellings. */
  public optionsNamed(...names: string[]): MpirunOption[] {
    return this.options.filter(o => names.includes(o.name));
  }

  /** The number of processes (`-np`, `-n`, `-c`), if given. */
  public get processCount(): number | undefined {
    const option = this.optionsNamed('-np', '--np', '-n', '--n', '-c').pop();
    return option ? Number(option.values[0]) : undefined;
  }

  /** The `-x` entries in order: `NAME` or `NAME=VALUE`. */
  public get exportedEnv(): string[] {
    return this.optionsNamed('-x').map(o => o.values[0]).filter(v => v !== undefined);
  }

  /** The value of an MCA parameter set with `--mca`/`-mca`, if any. */
  public mcaParameter(name: string): string | undefined {
    return this.optionsNamed('--mca', '-mca', '--gmca', '-gmca').filter(o => o.values[0] === name).pop()?.values[1];
  }
}
